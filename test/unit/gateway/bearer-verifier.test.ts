import { describe, expect, it } from '@jest/globals';
import { UnauthorizedError } from '../../../lib/errors.js';
import { cachedBearerVerifier } from '../../../lib/gateway/bearer-verifier.js';

const NOW = 1_700_000_000_000;

function verifierOf(claims: Record<string, unknown>, options: { now?: () => number; maxEntries?: number } = {}) {
  const checked: string[] = [];
  const tokens = {
    async verify(token: string) {
      checked.push(token);
      if (token === 'bad') throw new UnauthorizedError('does not verify');
      return { subject: `sub-of-${token}`, claims: { exp: NOW / 1000 + 3600, ...claims } };
    },
  };
  return { checked, bearer: cachedBearerVerifier(tokens, { tenantClaim: 'ns/tenant', now: () => NOW, ...options }) };
}

describe('cachedBearerVerifier', () => {
  it('reads the subject, the namespaced tenant claim and a well-formed client_id', async () => {
    const { bearer } = verifierOf({ 'ns/tenant': 'acme', client_id: 'web-app' });
    await expect(bearer.verify('t1')).resolves.toEqual({ subject: 'sub-of-t1', tenant: 'acme', clientId: 'web-app' });
    const { bearer: odd } = verifierOf({ client_id: 'with space' });
    await expect(odd.verify('t1')).resolves.toEqual({ subject: 'sub-of-t1', tenant: undefined, clientId: undefined });
  });

  it('refuses (403 tenant-invalid) a tenant claim that is not a slug', async () => {
    const { bearer } = verifierOf({ 'ns/tenant': '../acme' });
    await expect(bearer.verify('t1')).rejects.toMatchObject({ status: 403, code: 'tenant-invalid' });
  });

  it('checks a token once until its expiry or the TTL, and a refused one every time', async () => {
    let now = NOW;
    const { bearer, checked } = verifierOf({}, { now: () => now });
    await bearer.verify('t1');
    await bearer.verify('t1');
    await expect(bearer.verify('bad')).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(bearer.verify('bad')).rejects.toBeInstanceOf(UnauthorizedError);
    now += 60_001;
    await bearer.verify('t1');
    expect(checked).toEqual(['t1', 'bad', 'bad', 't1']);
  });

  it('keeps at most maxEntries tokens, dropping the oldest', async () => {
    const { bearer, checked } = verifierOf({}, { maxEntries: 2 });
    for (const token of ['t1', 't2', 't3', 't2', 't1']) await bearer.verify(token);
    expect(checked).toEqual(['t1', 't2', 't3', 't1']);
  });
});
