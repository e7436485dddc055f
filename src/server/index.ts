/**
 * Bulwark console server: HTTP API (Fastify, OpenAPI at /api/openapi.json), storage (SQLite or
 * PostgreSQL through Kysely), users and access, registry scanning jobs and notifications.
 */
export { createConsole, type Console, type ServerOptions } from './app.js';
export { startServer, defaultDataDir, parseListen, type StartOptions, type RunningServer } from './start.js';
export { uploadReport, type UploadResult, type UploadOptions } from './client.js';
export { openStore, type Store, type Database, type Dialect } from './db/index.js';
export { SecretBox, hashPassword, verifyPassword } from './crypto.js';
export { storeReport, imageNameOf, digestOf } from './scans.js';
export { enqueue, advisoryFingerprint, JobRunner } from './jobs.js';
export {
  Notifier,
  toSyslog,
  toCef,
  octetFrame,
  webhookRequest,
  slackMessage,
  EVENT_TYPES,
  type NotifyEvent,
} from './notify/index.js';
