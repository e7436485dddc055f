import { after, test } from 'node:test';
import { stopSharedPostgres } from './helpers.js';
import { registryFlow } from './registry-flow.js';

after(stopSharedPostgres);
test('registry scanning on PostgreSQL: TLS+auth registry, tag filter, rescan on advisory DB change, retries', () =>
  registryFlow('postgres'));
