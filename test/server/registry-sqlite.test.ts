import { test } from 'node:test';
import { registryFlow } from './registry-flow.js';

test('registry scanning on SQLite: TLS+auth registry, tag filter, rescan on advisory DB change, retries', () =>
  registryFlow('sqlite'));
