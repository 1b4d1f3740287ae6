import { afterAll, beforeAll, it } from '@jest/globals';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
let stack: AdminStack;
beforeAll(async () => { stack = await startAdminStack(); });
afterAll(() => stack.stop());
it('probe', async () => {
  const out: unknown[] = [];
  for (const body of [
    { client_name: 'x', scope: 'foo' },
    { client_name: 'x', grant_types: ['authorization_code'], redirect_uris: ['http://localhost/cb'] },
    { client_name: 'x', grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb?x=1'] },
    { client_name: 'x', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://app.example/cb'] },
    { client_name: '😀 \u2028 x' },
    { client_name: 'x', scope: 'openid' },
  ]) {
    const r = await stack.call('platformAdmin', 'POST', '/tenants/acme/clients', body);
    out.push([body, r.status, r.json]);
  }
  const r = await stack.call('platformAdmin', 'POST', '/tenants/acme/clients/nope/secret', 'garbage{');
  out.push(['rotate nope', r.status, r.json]);
  process.stderr.write(JSON.stringify(out, null, 1) + '\n');
});
