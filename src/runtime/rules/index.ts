/**
 * Falco-compatible rules engine: Falco's rule files (rules, macros, lists, exceptions,
 * override/append, enabled, priorities, tags, required_engine_version, required_plugin_versions)
 * and condition language, compiled once into closures indexed by event type.
 *
 *   const rs = loadRules([{ name: 'falco_rules.yaml', content }]);
 *   rs.errors / rs.warnings        // { file, line, column, code, itemType, itemName, message }
 *   rs.eventTypes()                // Set<string> for the sensor's kernel pre-filter ('*': all)
 *   state.process(ev); for (const a of rs.evaluate(ev, state)) out.write(formatAlert(a, 'json'))
 */
export type { Alert, AlertFormat, OutputValue, CompiledOutput, FormatOptions } from './output.js';
export { formatAlert, compileOutput, isoTime, clockTime, isoPrefixTime } from './output.js';
export type { LoadIssue, Rule, RuleFile, Priority, LoadOptions, FileResult, CompiledRule } from './loader.js';
export {
  loadRules,
  loadRuleFiles,
  Ruleset,
  PRIORITIES,
  ENGINE_VERSION,
  BUILTIN_PLUGINS,
  parsePriority,
  priorityName,
} from './loader.js';
export { parseCondition, ParseError } from './parser.js';
export type { Node as ConditionNode } from './parser.js';
export {
  compileCondition,
  conditionToString,
  expandCondition,
  eventTypesOf,
  CompileError,
} from './compiler.js';
export type { Filter, CompileOptions, CompiledCondition, TypeSet } from './compiler.js';
export { FIELDS, lookupField } from './fields.js';
export type { FieldDef, FieldType, FieldValue } from './fields.js';
export { EVENT_TYPES } from './evttypes.js';
