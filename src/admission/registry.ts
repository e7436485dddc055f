/**
 * Tag → digest through the OCI distribution API (src/image's RegistryClient), one client per
 * registry host, kept for the life of the webhook. Only the background cache fills call it.
 */
import { parseImageReference, RegistryClient, type RegistryOptions } from '../image/index.js';
import type { DigestResolver } from './images.js';

export class RegistryDigestResolver implements DigestResolver {
  private readonly clients = new Map<string, RegistryClient>();
  constructor(private readonly opts: RegistryOptions = {}) {}

  async resolve(ref: string): Promise<string> {
    const r = parseImageReference(ref);
    if (r.digest) return r.digest;
    let c = this.clients.get(r.registry);
    if (!c)
      this.clients.set(
        r.registry,
        (c = new RegistryClient(r.registry, { retries: 1, timeoutMs: 15_000, ...this.opts })),
      );
    // the top-level digest (an index for multi-platform images): what a pinned reference names
    return (await c.getManifest(r.repository, r.tag!)).digest;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
