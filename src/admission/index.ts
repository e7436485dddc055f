/**
 * Kubernetes admission: the validating/mutating webhook (AdmissionReview v1) over the same CEL checks
 * as `bulwark scan config`, image verdicts (signature, vulnerabilities, digest) from a background
 * cache, the webhook's own deployment manifests, and ValidatingAdmissionPolicy evaluation for CI.
 */
export {
  ADMISSION_API_VERSION,
  parseAdmissionReview,
  reviewResponse,
  admissionReviewFor,
  resourceOfKind,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  type Operation,
} from './review.js';
export {
  admit,
  admitWithin,
  evaluateObject,
  admissionFileName,
  failureResponse,
  type AdmitOptions,
  type Decision,
  type Mode,
  type FailurePolicy,
} from './admit.js';
export {
  ImageCache,
  digestOfRef,
  worstSeverity,
  type ImageCacheOptions,
  type ImageVerdict,
  type SignatureVerifier,
  type DigestResolver,
  type VulnerabilitySource,
} from './images.js';
export {
  startWebhook,
  webhookHandler,
  DEFAULT_MAX_BODY,
  type WebhookServer,
  type WebhookServerOptions,
} from './server.js';
export { RegistryDigestResolver } from './registry.js';
export { cosignVerifier } from './verifier.js';
export {
  webhookManifests,
  webhookObjects,
  DEFAULT_IMAGE,
  WEBHOOK_RULES,
  type ManifestOptions,
} from './manifests.js';
export {
  decisionEvent,
  consoleEvent,
  streamSink,
  HttpEventSink,
  type AdmissionEvent,
  type EventSink,
} from './events.js';
export {
  evaluateVap,
  loadVapObjects,
  loadVapPaths,
  scanVap,
  matchesSelector,
  toCel,
  type VapSet,
  type VapResult,
  type VapEvaluateOptions,
  type ValidationAction,
} from './vap.js';
