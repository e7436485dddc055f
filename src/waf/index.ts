/**
 * Bulwark's layer-7 firewall: a SecLang engine that loads the OWASP CRS unmodified.
 *
 *   const waf = createWaf({ rules: ['/usr/share/modsecurity-crs/rules'], paranoia: 1 });
 *   const tx = waf.transaction({ method, uri, protocol: 'HTTP/1.1', headers, body });
 *   const iv = tx.processRequest(); // null, or { status, ruleId, action }
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expandConfigPath, loadSecLangFile, parseSecLang, type Directive } from './seclang.js';
import { compileRules, type RuleSet } from './rules.js';
import { Transaction, type WafRequest } from './engine.js';
import { setupConfig, type SetupOptions } from './setup.js';

export { Transaction } from './engine.js';
export type { WafRequest, WafResponse, Intervention, MatchRecord } from './engine.js';
export type { RuleSet, Rule } from './rules.js';
export { compileRules } from './rules.js';
export { parseSecLang, loadSecLangFile, SecLangError } from './seclang.js';
export { setupConfig } from './setup.js';
export * from './ftw.js';
export { parseRawRequest, decodeChunked } from './http1.js';

export interface WafOptions extends SetupOptions {
  /** rule files or directories (a directory: its *.conf files; a CRS checkout: its rules/) */
  rules: string[];
  /** skip Bulwark's built-in engine setup (the rule files configure everything) */
  noSetup?: boolean;
  /** @rx literal pre-filters (default true) */
  prefilter?: boolean;
}

export interface Waf {
  rules: RuleSet;
  transaction(req: WafRequest): Transaction;
}

/** directives of a list of rule paths; a CRS checkout directory means its rules/ folder */
export function loadRulePaths(paths: string[]): Directive[] {
  const out: Directive[] = [];
  for (const p of paths) {
    let path = p;
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      const sub = join(p, 'rules');
      if (statSync(sub, { throwIfNoEntry: false })?.isDirectory() && expandConfigPath(p).length === 0)
        path = sub;
    }
    for (const f of expandConfigPath(path)) out.push(...loadSecLangFile(f));
  }
  return out;
}

export function buildRuleSet(opts: WafOptions): RuleSet {
  const dirs = opts.noSetup ? [] : parseSecLang(setupConfig(opts), '<bulwark-setup>');
  dirs.push(...loadRulePaths(opts.rules));
  return compileRules(dirs, { prefilter: opts.prefilter });
}

export function createWaf(opts: WafOptions): Waf {
  const rules = buildRuleSet(opts);
  return { rules, transaction: (req) => new Transaction(rules, req) };
}
