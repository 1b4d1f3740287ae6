import { describe, expect, it } from '@jest/globals';
import { ConflictError, ForbiddenError, NotFoundError } from '../../../lib/errors.js';
import type { ClaimsLookup } from '../../../lib/policy/claims.js';
import { enrichToken, SubjectNotFoundError } from '../../../lib/policy/resolve-claims.js';

const tenant = { id: '5f0c6a52-2a4c-4a8e-9f7e-0b7f1d6f8b10', slug: 'acme' };
const reader = (lookup: ClaimsLookup) => ({ claims: { resolveClaims: async () => lookup } });

describe('enrichToken', () => {
  it('returns the subject with its tenant, roles and permissions', async () => {
    const claims = await enrichToken(
      reader({ outcome: 'ok', tenant, subjectType: 'user', roles: ['viewer'], permissions: ['invoices:read'] }),
      { subject: 'u-1', tenant: 'acme' },
    );
    expect(claims).toEqual({ subject: 'u-1', subject_type: 'user', tenant, roles: ['viewer'], permissions: ['invoices:read'] });
  });

  it.each([
    [{ outcome: 'not_member' } as const, NotFoundError, 'subject-not-found'],
    [{ outcome: 'subject_not_found' } as const, NotFoundError, 'subject-not-found'],
    [{ outcome: 'tenant_suspended', tenant } as const, ForbiddenError, 'tenant-suspended'],
    [{ outcome: 'ambiguous' } as const, ConflictError, 'tenant-required'],
  ])('refuses %o with the matching error', async (lookup, type, code) => {
    const attempt = enrichToken(reader(lookup), { subject: 'u-1' });
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toMatchObject({ code });
  });

  it('answers a tenant the subject is not in exactly as one that does not exist, and tells only the dialects whether the subject is ours', async () => {
    const notMember = await enrichToken(reader({ outcome: 'not_member' }), { subject: 'u-1', tenant: 'acme' }).catch((e: unknown) => e);
    const unknown = await enrichToken(reader({ outcome: 'subject_not_found' }), { subject: 'u-1', tenant: 'acme' }).catch((e: unknown) => e);
    expect(notMember).toBeInstanceOf(SubjectNotFoundError);
    expect(unknown).toBeInstanceOf(SubjectNotFoundError);
    const wire = (e: any) => ({ status: e.status, code: e.code, title: e.title, detail: e.message });
    expect(wire(notMember)).toEqual(wire(unknown));
    expect([(notMember as SubjectNotFoundError).known, (unknown as SubjectNotFoundError).known]).toEqual([true, false]);
  });
});
