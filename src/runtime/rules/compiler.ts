/** Compiles a parsed condition into a closure over (event, state). */
import type { SyscallEvent } from '../event.js';
import type { StateTracker } from '../state/index.js';
import type { Node } from './parser.js';

export type Filter = (ev: SyscallEvent, state: StateTracker) => boolean;

export interface CompileOptions {
  /** macro name → parsed condition */
  macros?: Map<string, Node>;
  /** list name → items */
  lists?: Map<string, string[]>;
}

export class CompileError extends Error {}

export function compileCondition(
  node: Node,
  _opts: CompileOptions = {},
): { filter: Filter; eventTypes: Set<string> | undefined; warnings: string[] } {
  throw new CompileError(`not implemented: ${node.kind}`);
}
