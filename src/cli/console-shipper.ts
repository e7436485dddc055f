/**
 * The started shipper of a command that reports to the console (`admission --server`,
 * `waf --server`): --token or $BULWARK_TOKEN required, the disk buffer in --buffer-dir or
 * ~/.cache/bulwark/<name>, bad values as usage errors.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import type { Shipper } from '../agent/index.js';

export async function consoleShipper(
  o: { server: string; token?: string; bufferDir?: string },
  defaultBuffer: string,
  warn: (m: string) => void,
): Promise<Shipper> {
  const token = o.token ?? process.env.BULWARK_TOKEN ?? '';
  if (!token) throw new BulwarkError('USAGE', '--server needs --token (or $BULWARK_TOKEN)');
  const { Shipper } = await import('../agent/index.js');
  let s: Shipper;
  try {
    s = new Shipper({
      server: o.server,
      token,
      bufferDir: o.bufferDir ?? join(homedir(), '.cache', 'bulwark', defaultBuffer),
      onWarn: warn,
    });
  } catch (e) {
    throw new BulwarkError('USAGE', (e as Error).message);
  }
  s.start();
  return s;
}
