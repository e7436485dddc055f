/** What every route group and background worker receives. */
import type { Kysely } from 'kysely';
import type { Logger } from '../core/log.js';
import type { Auth } from './auth.js';
import type { SecretBox } from './crypto.js';
import type { Database, Dialect, Store } from './db/index.js';
import type { Router } from './http.js';
import type { Registry } from './metrics.js';
import type { LoginThrottle } from './throttle.js';
import type { PostedEvent, PostedStats, StoredRuntimeEvent } from './runtime.js';
import type { PostedFlow } from './network.js';
import type { PostedProfile } from './profiles.js';
import type { PostedBenchmark } from './benchmarks.js';

export interface ServerContext {
  store: Store;
  db: Kysely<Database>;
  dialect: Dialect;
  router: Router;
  auth: Auth;
  /** Failed login/bootstrap attempts per source and account. */
  throttle: LoginThrottle;
  box: SecretBox;
  metrics: Registry;
  logger: Logger;
  dataDir: string;
  /** Advisory DB used by registry scan jobs (path of the SQLite file). */
  advisoryDbPath: string;
  /** What registry images' signatures are verified against (server/signatures.ts); none: listed only. */
  signaturePolicy?: import('./signatures.js').SignaturePolicyOptions;
  /**
   * Called inside the transaction that stores a scan (notifications write their outbox rows there,
   * so an event is queued if and only if the scan is stored).
   */
  onScanStored: ((e: ScanStoredEvent, tx: Kysely<Database>) => Promise<void>)[];
  /** Called inside the transaction that stores a batch of runtime events, with the new ones. */
  onRuntimeStored: ((stored: StoredRuntimeEvent[], tx: Kysely<Database>) => Promise<void>)[];
  /** Stores validated runtime items (set by the runtime routes; the event bus consumer uses it too). */
  ingestRuntime?: (
    events: PostedEvent[],
    stats: PostedStats[],
    who: string,
    flows?: PostedFlow[],
    profiles?: PostedProfile[],
    benchmarks?: PostedBenchmark[],
  ) => Promise<{ accepted: number; duplicates: number }>;
}

export interface ScanStoredEvent {
  /** The stored scan (of one source). */
  scanId: number;
  /** The image's view after it (the scan itself, or the merged scan of all sources). */
  viewScanId: number;
  imageId: number;
  imageName: string;
  digest: string;
  registryId: number | null;
  /** The image's view before it. */
  previousScanId: number | null;
}
