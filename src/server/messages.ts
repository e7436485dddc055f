/**
 * Every message the console server shows to people (API errors, job messages), as English templates
 * with {placeholders}. The server formats them in English; error bodies also carry the key and
 * the parameters, and the web UI has each key in its dictionaries (srv.<key>, kept equal to these
 * templates by test/server/messages.test.ts), so it shows them in the user's language, job
 * messages included (matched back against the templates).
 */
export const SERVER_MESSAGES = {
  'auth.required': 'authentication required (session cookie or Authorization: Bearer token)',
  'auth.csrf': 'missing or wrong X-CSRF-Token header',
  'auth.role': 'this action needs the {role} role',
  'auth.login': 'wrong username or password',
  'auth.bootstrap': 'wrong or already used bootstrap token',
  'auth.throttledPair': 'too many failed logins for this account from this address; try again in {seconds} s',
  'auth.throttledSource': 'too many failed logins from this address; try again in {seconds} s',
  'auth.throttledAccount': 'too many failed logins for this account; try again in {seconds} s',
  'user.exists': 'user {name} exists',
  'user.notFound': 'user {id} not found',
  'user.selfDemote': 'you cannot demote or disable yourself',
  'user.selfDelete': 'you cannot delete yourself',
  'token.byToken': 'API tokens cannot create tokens; log in',
  'token.tooStrong': 'a token cannot have more rights ({role}) than its owner ({owner})',
  'token.notFound': 'token {id} not found',
  'destination.notFound': 'destination {id} not found',
  'destination.missing': 'destination {id} does not exist',
  'rule.notFound': 'rule {id} not found',
  'delivery.notFound': 'delivery {id} not found',
  'delivery.notDead': 'delivery {id} is {status}, not dead',
  'registry.notFound': 'registry {id} not found',
  'registry.exists': 'registry {name} exists',
  'job.notFound': 'job {id} not found',
  'scan.notFound': 'scan {id} not found',
  'scan.sourceMissing': 'scan {source} (source of merged scan {id}) not found',
  'scan.noPackages':
    'scan {id} has no package list (registry scans keep one; for uploads use bulwark scan --list-all-pkgs)',
  'scan.baseNotFound': 'base scan {id} not found',
  'image.notFound': 'image {id} not found',
  'suppression.notFound': 'suppression {id} not found',
  'report.invalid': 'not a Bulwark scan report: {detail}',
  'request.invalidParams': 'invalid path parameter: {detail}',
  'compliance.unknown': 'unknown compliance framework {id}',
  'advisory.notFound': 'advisory {id} is not in the advisory database',
  'advisory.noDb': 'no advisory database to look up {id} in',
  'request.invalidQuery': 'invalid query parameter: {detail}',
  'request.invalidBody': 'invalid request body: {detail}',
  'request.tooLarge': 'request body too large (at most {limit} bytes here)',
  'request.badJson': 'the request body is not valid JSON',
  'request.mediaType': 'unsupported content type {type}',
  'route.notFound': 'no route {method} {path}',
  internal: 'internal server error',
  'job.queued': 'queued',
  'job.requeued': 'requeued after restart',
  'job.leaseExpired': 'its runner {runner} stopped renewing the lease (server gone?)',
  'job.started': 'started',
  'job.retrying': 'attempt {attempt} failed: {error}; retrying',
  'job.listing': 'listing repositories of {host}',
  'job.repoQueued': '{repo}: {count} scan(s) queued so far',
  'job.syncDone': '{count} image scan(s) queued ({reason})',
  'job.pulling': 'pulling and scanning {ref}',
  'job.storing': 'storing results of {ref}',
  'job.done': '{count} finding(s) in {ref}',
  'job.reasonDbChanged': 'vulnerability DB changed',
  'job.reasonSchedule': 'schedule',
  'job.reasonRequested': 'requested by {user}',
  'audit.wrongToken': 'wrong token',
  'audit.alreadyBootstrapped': 'already bootstrapped',
  'runtime.notFound': 'runtime event {id} not found',
  'runtime.wrongCluster': 'events.{index} is of cluster {cluster}, but this token belongs to cluster {token}',
  'runtime.batchTooLarge': 'a batch of {count} events is too large (at most {max}): send smaller batches',
  'workload.notFound': 'no agent reported a profile of workload {workload} (cluster "{cluster}")',
  'response.notReversible':
    'event {id} is not a response that can be undone (only a pause, quarantine or capture that was done)',
  'response.alreadyUndone': 'response {id} was undone already',
  'response.undoPending': 'an undo of response {id} is already waiting for the agent of {node}',
  'command.wrongCluster': 'cluster {cluster} is not the cluster of this token ({token})',
  'benchmark.notFound': 'node {node} (cluster "{cluster}") sent no {target} benchmark results',
  'benchmark.wrongCluster': 'cluster {cluster} is not the cluster of this token ({token})',
} as const;

export type MessageKey = keyof typeof SERVER_MESSAGES;

/** Languages the UI has besides English (parameters can come pre-translated for them). */
export const UI_LANGUAGES = ['zh-CN'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];

/**
 * The schemas' own validation messages in Chinese (zod's built-in ones come from its zh-CN locale);
 * an English message not listed stays English.
 */
export const VALIDATION_ZH: [RegExp, string][] = [
  [/^at least 12 characters$/, '至少 12 个字符'],
  [/^letters, digits and _ \. @ - \(1-64 characters\)$/, '只能包含字母、数字和 _ . @ -（1-64 个字符）'],
  [/^unknown severity (.*)$/, '未知的严重级别 $1'],
  [/^unknown priority "(.*)" \(expected (.*)\)$/, '未知的优先级 "$1"（应为 $2 之一）'],
  [/^an alert needs rule and priority$/, '告警必须包含 rule 和 priority'],
  [/^at most 256 output fields$/, '输出字段最多 256 个'],
];
export type MessageParams = Record<string, string | number>;

export interface Message {
  key: MessageKey;
  params?: MessageParams;
}

/** The English text of a message. */
export function format(key: MessageKey, params: MessageParams = {}): string {
  return SERVER_MESSAGES[key].replace(/\{(\w+)\}/g, (m, k: string) =>
    params[k] === undefined ? m : String(params[k]),
  );
}

export function msg(key: MessageKey, params?: MessageParams): Message {
  return params ? { key, params } : { key };
}
