/**
 * The CLI from source (tsx), as tests start `bulwark` processes: node's argv before the
 * command's own, to be run with the repository as cwd.
 */
export const BULWARK_FROM_SOURCE: readonly string[] = [
  '--import',
  'tsx',
  '-e',
  `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv); })`,
  'bulwark',
];
