/**
 * GET /api/images/:id/signatures: an image's cosign signatures and attestations as its last
 * registry scan read and verified them (../signatures.ts). Viewers read.
 */
import { z } from 'zod';
import type { ServerContext } from '../context.js';
import { HttpError, IdParams } from '../http.js';
import { msg } from '../messages.js';
import { hasPolicy, imageSignatures } from '../signatures.js';

const Check = z.object({
  kind: z.enum(['signature', 'attestation']),
  verified: z
    .boolean()
    .nullable()
    .meta({ description: 'null: not checked (no signature policy configured)' }),
  predicateType: z.string().optional(),
  signer: z.string().optional(),
  tlog: z.object({ logIndex: z.number().int(), integratedTime: z.string() }).optional(),
  source: z.string().optional(),
  errors: z.array(z.string()),
});

const Out = z.object({
  checked: z.boolean().meta({ description: 'false until a registry scan of the image read them' }),
  digest: z.string().optional(),
  checkedAt: z.string().optional(),
  policy: z.boolean().meta({ description: 'a key or certificate identity to verify against is configured' }),
  signed: z.boolean(),
  attested: z.array(z.string()).meta({ description: 'predicate types of the verified attestations' }),
  items: z.array(Check),
  error: z.string().optional(),
});

export function signatureRoutes(s: ServerContext): void {
  s.router.add({
    method: 'GET',
    url: '/api/images/:id/signatures',
    tag: 'images',
    access: 'viewer',
    summary:
      "An image's cosign signatures and attestations (legacy .sig/.att tags and Sigstore bundles), verified against the console's signature policy at its last registry scan",
    params: IdParams,
    response: Out,
    async handler({ params }) {
      const img = await s.db.selectFrom('images').select('id').where('id', '=', params.id).executeTakeFirst();
      if (!img) throw new HttpError(404, 'NOT_FOUND', msg('image.notFound', { id: params.id }));
      const sig = await imageSignatures(s.db, img.id);
      if (!sig)
        return {
          checked: false,
          policy: hasPolicy(s.signaturePolicy),
          signed: false,
          attested: [],
          items: [],
        };
      return { checked: true, ...sig };
    },
  });
}
