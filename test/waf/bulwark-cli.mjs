// Runs the CLI from the TypeScript sources (node --import tsx test/waf/bulwark-cli.mjs ARGS...):
// a real script file, so node:cluster workers can re-run it.
import process from 'node:process';

const { main } = await import('../../src/cli/main.ts');
process.exitCode = await main(process.argv);
