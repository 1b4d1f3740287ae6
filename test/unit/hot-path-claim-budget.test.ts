import { describe, expect, it } from '@jest/globals';
import type { Claims } from '../../lib/policy/claims.js';
import { ClaimsTooLargeError, jsonBytesAtMost, tokenClaims } from '../../lib/policy/claim-profile.js';

const claims = (roles: string[], permissions: string[] = ['invoices:read']): Claims => ({
  subject: 'u-1',
  subject_type: 'user',
  tenant: { id: '0b9b5a5e-1f1c-4c4e-9a1e-6f2d6b0c9a11', slug: 'acme' },
  roles,
  permissions,
});
const exactBytes = (set: object) => Buffer.byteLength(JSON.stringify(set));

describe('the claim budget', () => {
  it.each([
    ['plain ASCII', ['viewer', 'editor']],
    ['quotes and backslashes', ['a"b', 'c\\d']],
    ['control characters', ['\u0000\u001f\n\t']],
    ['non-ASCII text', ['Zoë', 'читатель', '管理者']],
    ['astral characters', ['😀😀']],
    ['lone surrogates', ['\ud800', '\udfff']],
    ['no roles', []],
  ])('bounds the JSON size from above: %s', (_name, roles) => {
    const set = tokenClaims(claims(roles), { namespace: 'https://citadel.example/', maxBytes: 65_536 });
    expect(jsonBytesAtMost(set)).toBeGreaterThanOrEqual(exactBytes(set));
  });

  it('accepts a set that fits although its bound does not', () => {
    const roles = Array.from({ length: 20 }, (_, i) => `role-${i}`);
    const set = tokenClaims(claims(roles), { namespace: '', maxBytes: 65_536 });
    const exact = exactBytes(set);
    expect(jsonBytesAtMost(set)).toBeGreaterThan(exact);
    expect(tokenClaims(claims(roles), { namespace: '', maxBytes: exact })).toEqual(set);
  });

  it('refuses a set one byte over the budget, naming its exact size', () => {
    const roles = Array.from({ length: 20 }, (_, i) => `role-${i}`);
    const exact = exactBytes(tokenClaims(claims(roles), { namespace: '', maxBytes: 65_536 }));
    const refusal = () => tokenClaims(claims(roles), { namespace: '', maxBytes: exact - 1 });
    expect(refusal).toThrow(ClaimsTooLargeError);
    expect(refusal).toThrow(`The subject's claims take ${exact} bytes, over the ${exact - 1}-byte budget of a token.`);
  });
});
