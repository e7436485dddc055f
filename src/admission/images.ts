/**
 * Image verdicts for admission: tag → digest, signature and vulnerability results per digest, kept
 * in a bounded cache that is filled in the background. The request path only reads the cache (and
 * may wait for an in-flight fill up to the request's deadline); registry, signature and scan I/O
 * run in `warm()`, deduplicated per image, with bounded concurrency and a timeout of their own so
 * that a hung registry or verifier never holds a slot for ever.
 */
import type { Severity } from '../core/types.js';
import { SEVERITIES, severityRank } from '../core/types.js';

/** Signature verification of one image (src/sign's verifyImageSignatures behind this interface). */
export interface SignatureVerifier {
  verify(ref: string): Promise<{ digest: string; verified: boolean; errors: string[] }>;
}

/** Tag → digest (a HEAD/GET on the manifest). */
export interface DigestResolver {
  resolve(ref: string): Promise<string>;
}

/** Vulnerability counts of an image by severity (a scan of `repo@digest`). */
export interface VulnerabilitySource {
  scan(refWithDigest: string): Promise<Partial<Record<Severity, number>>>;
}

export interface ImageVerdict {
  /** The reference as written in the pod spec. */
  ref: string;
  digest?: string;
  signature?: { verified: boolean; errors: string[] };
  vulnerabilities?: Partial<Record<Severity, number>>;
  /** Why no verdict could be reached (registry down, verifier timed out...). */
  error?: string;
  /** When the verdict was made (ms since epoch). */
  at: number;
}

export interface ImageCacheOptions {
  resolver?: DigestResolver;
  verifier?: SignatureVerifier;
  vulnerabilities?: VulnerabilitySource;
  /**
   * A digest's verdict (signature, vulnerabilities) older than this is still served, and refreshed
   * in the background (default 1 h).
   */
  ttlMs?: number;
  /**
   * How long a tag's digest is trusted before it is resolved again (default 60 s): a tag moved to
   * another image gets that image's verdict within this time (pin digests to close the window).
   */
  tagTtlMs?: number;
  /** A failed verdict is retried after this (default 30 s). */
  errorTtlMs?: number;
  /** One fill (resolve + verify + scan) is abandoned after this (default 60 s). */
  fillTimeoutMs?: number;
  /** Concurrent fills (default 4). */
  concurrency?: number;
  /** Entries kept (least recently used dropped first; default 10,000). */
  maxEntries?: number;
  now?: () => number;
}

/** A digest in a reference (`name@sha256:...`), or undefined. */
export function digestOfRef(ref: string): string | undefined {
  const at = ref.lastIndexOf('@');
  return at >= 0 ? ref.slice(at + 1) : undefined;
}

export class ImageCache {
  private readonly entries = new Map<string, ImageVerdict>();
  /** Verdicts per `repo@digest`, shared by every tag that resolves to it. */
  private readonly byDigest = new Map<string, Pick<ImageVerdict, 'signature' | 'vulnerabilities' | 'at'>>();
  private readonly inflight = new Map<string, Promise<ImageVerdict>>();
  private readonly queue: (() => void)[] = [];
  private running = 0;
  private readonly ttl: number;
  private readonly tagTtl: number;
  private readonly errorTtl: number;
  private readonly fillTimeout: number;
  private readonly concurrency: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Fills started and fills that timed out (for metrics and tests). */
  readonly stats = { fills: 0, timeouts: 0, hits: 0, misses: 0 };

  constructor(private readonly opts: ImageCacheOptions = {}) {
    this.ttl = opts.ttlMs ?? 3_600_000;
    this.tagTtl = Math.min(this.ttl, opts.tagTtlMs ?? 60_000);
    this.errorTtl = opts.errorTtlMs ?? 30_000;
    this.fillTimeout = opts.fillTimeoutMs ?? 60_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.maxEntries = Math.max(1, opts.maxEntries ?? 10_000);
    this.now = opts.now ?? Date.now;
  }

  /** True when verdicts need any I/O at all (some verifier, scanner or resolver is configured). */
  get active(): boolean {
    return Boolean(this.opts.resolver || this.opts.verifier || this.opts.vulnerabilities);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached verdict, or undefined. A stale verdict is returned and refreshed in the background;
   * a miss starts a fill in the background.
   */
  get(ref: string): ImageVerdict | undefined {
    const v = this.entries.get(ref);
    if (!v) {
      this.stats.misses++;
      void this.warm(ref);
      return undefined;
    }
    // LRU: move to the end
    this.entries.delete(ref);
    this.entries.set(ref, v);
    const age = this.now() - v.at;
    if (age > (v.error ? this.errorTtl : digestOfRef(ref) ? this.ttl : this.tagTtl)) {
      if (v.error) {
        this.stats.misses++;
        void this.warm(ref);
        return undefined;
      }
      void this.warm(ref);
    }
    this.stats.hits++;
    return v;
  }

  /** Stores a verdict (tests, or verdicts computed elsewhere). */
  set(v: ImageVerdict): void {
    this.entries.delete(v.ref);
    this.entries.set(v.ref, v);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Fills (or refreshes) the verdict of `ref`; concurrent calls share one fill. Never rejects. */
  warm(ref: string): Promise<ImageVerdict> {
    const cur = this.inflight.get(ref);
    if (cur) return cur;
    const p = this.schedule(ref).finally(() => this.inflight.delete(ref));
    this.inflight.set(ref, p);
    return p;
  }

  private schedule(ref: string): Promise<ImageVerdict> {
    return new Promise<ImageVerdict>((resolve) => {
      const run = () => {
        this.running++;
        this.stats.fills++;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<ImageVerdict>((res) => {
          timer = setTimeout(() => {
            this.stats.timeouts++;
            res({
              ref,
              error: `no verdict within ${this.fillTimeout} ms (registry or verifier hung)`,
              at: this.now(),
            });
          }, this.fillTimeout);
          timer.unref();
        });
        Promise.race([this.fill(ref), timeout])
          .then((v) => {
            // a failed refresh keeps serving the last good verdict until it is replaced
            const prev = this.entries.get(ref);
            if (!(v.error && prev && !prev.error)) this.set(v);
            resolve(v);
          })
          .finally(() => {
            clearTimeout(timer);
            this.running--;
            this.queue.shift()?.();
          });
      };
      if (this.running < this.concurrency) run();
      else this.queue.push(run);
    });
  }

  private async fill(ref: string): Promise<ImageVerdict> {
    const { resolver, verifier, vulnerabilities } = this.opts;
    try {
      let digest = digestOfRef(ref);
      if (!digest && resolver) digest = await resolver.resolve(ref);
      if (digest) {
        // the digest is what is verified and scanned (never the tag again: it may move meanwhile)
        const key = `${stripTag(stripDigest(ref))}@${digest}`;
        const known = this.byDigest.get(key);
        if (known && this.now() - known.at <= this.ttl) return { ref, digest, ...known, at: this.now() };
        let signature: ImageVerdict['signature'];
        if (verifier) {
          const r = await verifier.verify(key);
          if (r.digest && r.digest !== digest)
            return { ref, error: `signature verifier checked ${r.digest}, not ${digest}`, at: this.now() };
          signature = { verified: r.verified, errors: r.errors };
        }
        const vulns = vulnerabilities ? await vulnerabilities.scan(key) : undefined;
        const d = {
          ...(signature ? { signature } : {}),
          ...(vulns ? { vulnerabilities: vulns } : {}),
          at: this.now(),
        };
        this.byDigest.delete(key);
        this.byDigest.set(key, d);
        while (this.byDigest.size > this.maxEntries) this.byDigest.delete(this.byDigest.keys().next().value!);
        return { ref, digest, ...d };
      }
      // no resolver: the verifier resolves the reference itself (and names the digest it checked)
      if (!verifier) return { ref, error: 'no digest (no resolver configured)', at: this.now() };
      const r = await verifier.verify(ref);
      const vulns =
        vulnerabilities && r.digest ? await vulnerabilities.scan(`${stripTag(ref)}@${r.digest}`) : undefined;
      return {
        ref,
        ...(r.digest ? { digest: r.digest } : {}),
        signature: { verified: r.verified, errors: r.errors },
        ...(vulns ? { vulnerabilities: vulns } : {}),
        at: this.now(),
      };
    } catch (e) {
      return { ref, error: e instanceof Error ? e.message : String(e), at: this.now() };
    }
  }
}

/** `repo@sha256:…` → `repo`. */
export function stripDigest(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at >= 0 ? ref.slice(0, at) : ref;
}

/** `repo:tag` → `repo` (a port in the registry host is kept). */
export function stripTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
}

/** The worst severity with a non-zero count, or undefined. */
export function worstSeverity(counts: Partial<Record<Severity, number>>): Severity | undefined {
  let worst: Severity | undefined;
  for (const s of SEVERITIES)
    if ((counts[s] ?? 0) > 0 && (!worst || severityRank(s) > severityRank(worst))) worst = s;
  return worst;
}
