import type { CliContext } from './context.js';

/** Placeholder until this command group is implemented; registers nothing. */
export function register(_ctx: CliContext): void {}
