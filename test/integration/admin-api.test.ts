import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
import { mintAccessToken } from '../support/dev-idp.js';

function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; headers: any; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('probe', () => {
  let stack: AdminStack;
  beforeAll(async () => { stack = await startAdminStack(); });
  afterAll(() => stack.stop());
  it('probes', async () => {
    const out: unknown[] = [];
    const p = async (label: string, fn: () => Promise<unknown>) => { try { out.push([label, await fn()]); } catch (e) { out.push([label, 'THREW', String(e)]); } };
    await p('nul description', () => stack.call('platformAdmin', 'POST', '/tenants/acme/roles', { name: 'nul', permissions: [], description: 'a\u0000b' }));
    const cur = Buffer.from(JSON.stringify({ k: 'a\u0000' })).toString('base64url');
    await p('nul cursor', () => stack.call('platformAdmin', 'GET', `/tenants/acme/roles?cursor=${cur}`));
    await p('nul cursor tenants', () => stack.call('platformAdmin', 'GET', `/tenants?cursor=${cur}`));
    const before = await stack.db.query('x', 'select count(*)::int n from audit_log');
    await p('nul tenant denied', () => stack.call('tenantAdmin', 'GET', `/tenants/glob%00ex/roles`));
    const after = await stack.db.query('x', 'select count(*)::int n from audit_log');
    out.push(['audit', before, after]);
    await p('proto', () => stack.call('platformAdmin', 'POST', '/tenants/acme/roles', '{"name":"pp","permissions":[],"__proto__":{"x":1}}'));
    await p('constructor', () => stack.call('platformAdmin', 'POST', '/tenants/acme/roles', '{"name":"pp2","permissions":[],"constructor":{"x":1}}'));
    await p('lower bearer', async () => { const h = stack.headers('platformAdmin'); return (await raw(stack.url, 'GET', '/tenants', { authorization: h.authorization!.replace('Bearer', 'bearer') })).status; });
    await p('delete ifmatch', async () => { await stack.call('platformAdmin', 'POST', '/tenants/acme/roles', { name: 'del', permissions: [] }); return stack.call('platformAdmin', 'DELETE', '/tenants/acme/roles/del', undefined, { 'if-match': '"v999"' }); });
    await p('idem', async () => { const a = await stack.call('platformAdmin', 'POST', '/tenants/acme/roles', { name: 'idem', permissions: [] }, { 'idempotency-key': 'k1' }); const b = await stack.call('platformAdmin', 'POST', '/tenants/acme/roles', { name: 'idem', permissions: [] }, { 'idempotency-key': 'k1' }); return [a.status, a.headers.get('etag'), b.status, b.headers.get('etag'), b.headers.get('idempotent-replayed')]; });
    await p('dotdot', async () => raw(stack.url, 'GET', '/tenants/acme/roles/..', stack.headers('platformAdmin')));
    await p('sub number', async () => { const t = await mintAccessToken(stack.idp, { sub: 123 as any }); return (await raw(stack.url, 'GET', '/tenants', { authorization: `Bearer ${t}` })); });
    await p('badpct', async () => raw(stack.url, 'GET', '/tenants/acme/roles/%E0%A4%A', stack.headers('platformAdmin')));
    await p('after badpct', async () => (await stack.call('platformAdmin', 'GET', '/tenants')).status);
    console.error(JSON.stringify(out, null, 1));
  });
});
