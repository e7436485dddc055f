/**
 * Responses (#10): a response policy (YAML) binds alerts and profile deviations to actions — kill
 * the process, pause the container (cgroup freezer), quarantine its network namespace — each
 * audited as a response record and, for pause and quarantine, reversible.
 */
export {
  parseResponsePolicy,
  ruleMatches,
  globMatch,
  ResponsePolicyError,
  RESPONSE_ACTIONS,
  PRIORITY_ORDER,
  type ResponseAction,
  type ResponseRule,
  type TriggerEvent,
  type PolicyIssue,
} from './policy.js';
export {
  killProcess,
  freezerOf,
  isFrozen,
  setFrozen,
  quarantine,
  release,
  containerNetns,
  type FreezeTarget,
  type Quarantined,
} from './actions.js';
export { Responder, type ResponderOptions, type ResponseRecord, type Trigger } from './responder.js';
export { responseEvent, responseText, type ResponseEvent } from './events.js';
