/**
 * Debian's own packaging of the CRS (modsecurity-crs 3.3.4: /etc/modsecurity/crs/crs-setup.conf and
 * /usr/share/modsecurity-crs/rules, installed by scripts/install-deps.sh) loads unmodified, user
 * setup file first (its SecAction 900990 and SecDefaultActions next to Bulwark's own setup), and
 * blocks the classic attacks at PL1 while passing ordinary requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWaf } from '../../src/waf/index.js';

test("Debian's modsecurity-crs with its crs-setup.conf", () => {
  const waf = createWaf({
    rules: ['/etc/modsecurity/crs/crs-setup.conf', '/usr/share/modsecurity-crs/rules'],
    paranoia: 1,
  });
  assert.ok(waf.rules.byId.size > 500, `${waf.rules.byId.size} rules`);
  const run = (uri: string) => {
    const tx = waf.transaction({
      method: 'GET',
      uri,
      protocol: 'HTTP/1.1',
      headers: [
        ['Host', 'shop.example'],
        ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'],
        ['Accept', 'text/html'],
      ],
    });
    const iv = tx.processRequest();
    return { status: iv?.status ?? 200, ids: tx.loggedIds() };
  };
  const sqli = run(`/?id=${encodeURIComponent("1' OR '1'='1")}`);
  assert.equal(sqli.status, 403);
  assert.ok(sqli.ids.includes(942100) && sqli.ids.includes(949110), `${sqli.ids}`);
  const xss = run(`/?q=${encodeURIComponent('<script>alert(1)</script>')}`);
  assert.equal(xss.status, 403);
  assert.ok(xss.ids.includes(941100));
  assert.deepEqual(run('/products?page=2&sort=price'), { status: 200, ids: [] });
});
