/**
 * The `secret` scanner of `bulwark scan` (the plug-in shape of src/report/scanner.ts). Options:
 * `secretConfig`, the path of a Trivy-style secret config file. Files of every layer are scanned,
 * plus the image config's env and history.
 */
import type { Scanner } from '../report/scanner.js';
import { loadRuleSet, type RuleSet } from './rules.js';
import { SECRET_ANALYZER, scanImageConfig, secretAnalyzer, secretResults } from './analyzer.js';

export const scanner: Scanner = (() => {
  // rules are compiled once per process: analyzers() runs before the pass, results() after it
  let rules: RuleSet | undefined;
  const rulesFor = (options: Record<string, unknown>) =>
    (rules ??= loadRuleSet(options.secretConfig as string | undefined));
  return {
    name: 'secret',
    analyzers: (options) => [secretAnalyzer(rulesFor(options))],
    results(ctx) {
      const a = ctx.analysis;
      if (!a) return [];
      return [
        ...scanImageConfig(a.artifact.config, a.artifact.layers, rulesFor(ctx.options)),
        ...secretResults(a.results.get(SECRET_ANALYZER) ?? []),
      ];
    },
  };
})();
