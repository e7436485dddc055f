/**
 * Secret scanning: rules as data (policies/secrets/builtin.yaml + users' config), a text scanner
 * that never returns a secret unmasked, a file analyzer for the single pass over images and
 * directories, and checks of image configs (env and history).
 */
export {
  loadRuleSet,
  builtinRules,
  mergeConfig,
  type RuleSet,
  type CompiledRule,
  type SecretConfig,
} from './rules.js';
export { scanText, shannonEntropy, maskSecret, type SecretMatch } from './scanner.js';
export {
  secretAnalyzer,
  secretResults,
  scanImageConfig,
  toSecretFinding,
  SECRET_ANALYZER,
  DEFAULT_SECRET_MAX_BYTES,
  type SecretAnalyzerOptions,
} from './analyzer.js';

export { scanner } from './plugin.js';
