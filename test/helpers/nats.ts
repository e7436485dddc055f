/**
 * A real nats-server (Debian's) for tests: JetStream on, token auth, a free 127.0.0.1 port and its
 * own store directory; stop() and start() again keep the port and the store (an outage), and
 * kill() stops it for good and removes the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { freePort } from '../fixtures/index.js';

export class TestNats {
  readonly dir = mkdtempSync(join(tmpdir(), 'bulwark-nats-'));
  readonly token = 'nats-secret-' + Math.random().toString(36).slice(2);
  port = 0;
  private p: ChildProcess | undefined;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const p = spawn(
      'nats-server',
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-js',
        '-sd',
        join(this.dir, 'store'),
        '--auth',
        this.token,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.p = p;
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const end = Date.now() + 15_000;
    for (;;) {
      try {
        const nc = await connect({ servers: this.url, token: this.token, reconnect: false });
        await nc.close();
        return;
      } catch {
        if (p.exitCode !== null || Date.now() > end) throw new Error(`nats-server did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async stop(): Promise<void> {
    const p = this.p;
    this.p = undefined;
    if (!p || p.exitCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await done;
  }

  async kill(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
