/** Falco rule files → a compiled Ruleset. */
import type { SyscallEvent } from '../event.js';
import type { StateTracker } from '../state/index.js';
import type { Alert } from './output.js';

export const ENGINE_VERSION = '0.50.0';
export const PRIORITIES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'informational',
  'debug',
] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface RuleFile {
  name: string;
  content: string;
}

export interface LoadIssue {
  file: string;
  line: number;
  column: number;
  /** Falco's code: LOAD_ERR_YAML_PARSE, LOAD_ERR_COMPILE_CONDITION, LOAD_UNKNOWN_MACRO, ... */
  code: string;
  itemType: string;
  itemName: string;
  message: string;
}

export interface Rule {
  name: string;
  desc: string;
  condition: string;
  output: string;
  priority: Priority;
  tags: string[];
  source: string;
  enabled: boolean;
}

export interface LoadOptions {
  hostname?: string;
}

export class Ruleset {
  readonly errors: LoadIssue[] = [];
  readonly warnings: LoadIssue[] = [];
  readonly rules: Rule[] = [];

  /** Falco event type names the enabled rules need (for the kernel pre-filter). */
  eventTypes(): Set<string> {
    return new Set();
  }

  evaluate(_ev: SyscallEvent, _state: StateTracker): Alert[] {
    return [];
  }
}

export function loadRules(_files: RuleFile[], _opts: LoadOptions = {}): Ruleset {
  return new Ruleset();
}

export async function loadRuleFiles(paths: string[], opts: LoadOptions = {}): Promise<Ruleset> {
  const { readFile } = await import('node:fs/promises');
  const files = await Promise.all(paths.map(async (p) => ({ name: p, content: await readFile(p, 'utf8') })));
  return loadRules(files, opts);
}
