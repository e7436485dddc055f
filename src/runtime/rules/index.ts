/**
 * Falco-compatible rules engine: Falco's rule files (rules, macros, lists, exceptions,
 * override/append, enabled, priorities, tags, required_engine_version) and condition language,
 * compiled once into closures indexed by event type.
 *
 *   const rs = loadRules([{ name: 'falco_rules.yaml', content }]);
 *   rs.errors / rs.warnings        // { file, line, column, code, itemType, itemName, message }
 *   rs.eventTypes()                // Set<string> for the sensor's kernel pre-filter
 *   state.process(ev); for (const a of rs.evaluate(ev, state)) out.write(formatAlert(a, 'json'))
 */
export type { Alert, AlertFormat } from './output.js';
export { formatAlert } from './output.js';
export type { LoadIssue, Rule, RuleFile, Priority, LoadOptions } from './loader.js';
export { loadRules, loadRuleFiles, Ruleset, PRIORITIES, ENGINE_VERSION } from './loader.js';
export { parseCondition, ParseError } from './parser.js';
export type { Node as ConditionNode } from './parser.js';
export { compileCondition, CompileError } from './compiler.js';
export type { Filter, CompileOptions } from './compiler.js';
