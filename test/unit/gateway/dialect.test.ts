import { describe, expect, it } from '@jest/globals';
import { BadRequestError, ConflictError, DependencyUnavailableError, ForbiddenError, InternalError } from '../../../lib/errors.js';
import { answer, deny, denyUnlessNoneOfOurs, type GatewayDialect, NO_CHANGE } from '../../../lib/gateway/dialect.js';
import type { Claims } from '../../../lib/policy/claims.js';
import { SubjectNotFoundError } from '../../../lib/policy/resolve-claims.js';

const claims: Claims = { subject: 'u-1', subject_type: 'user', tenant: { id: 't-1', slug: 'acme' }, roles: [], permissions: [] };
const found = async () => claims;
const refused = (error: Error) => async () => Promise.reject(error);

/** A dialect that answers 200 with the subject, 204 for no change, and refuses like Hydra. */
const probe = (overrides: Partial<GatewayDialect<string, string>> = {}): GatewayDialect<string, string> => ({
  name: 'probe',
  parse: (input) => input,
  query: (subject) => (subject === '' ? undefined : { subject }),
  allow: (_subject, c) => ({ status: 200, body: c.subject }),
  unchanged: () => ({ status: 204 }),
  refuse: denyUnlessNoneOfOurs,
  ...overrides,
});

describe('answer', () => {
  it('allows with the claims found', async () => {
    await expect(answer(probe(), 'u-1', found)).resolves.toEqual({ status: 200, body: 'u-1' });
  });

  it('answers no change without a lookup when the request has no subject of ours', async () => {
    await expect(answer(probe(), '', refused(new Error('not called')))).resolves.toEqual({ status: 204 });
  });

  it('answers no change for a subject in no tenant at all, and denies one that is in some tenant', async () => {
    await expect(answer(probe(), 'u-1', refused(new SubjectNotFoundError('none', false)))).resolves.toEqual({ status: 204 });
    await expect(answer(probe(), 'u-1', refused(new SubjectNotFoundError('not in acme', true)))).rejects.toMatchObject({ status: 403, code: 'subject-not-found' });
  });

  it('passes the refusal of allow (the claim budget) through refuse', async () => {
    const tooLarge = probe({ allow: () => { throw new ConflictError('too large', 'claims-too-large'); } });
    await expect(answer(tooLarge, 'u-1', found)).rejects.toMatchObject({ status: 403, code: 'claims-too-large' });
  });

  it('throws what parse and query throw as they are, without refuse', async () => {
    const strict = probe({ query: () => { throw new BadRequestError('no sub'); } });
    await expect(answer(strict, 'u-1', found)).rejects.toMatchObject({ status: 400 });
  });

  it('throws an error that is not an AppError unchanged', async () => {
    const bug = new TypeError('bug');
    await expect(answer(probe(), 'u-1', refused(bug))).rejects.toBe(bug);
  });

  it('fails closed (500) where a dialect without a no-change answer would need one', async () => {
    const { unchanged: _, ...rest } = probe();
    await expect(answer(rest, '', found)).rejects.toBeInstanceOf(InternalError);
  });
});

describe('deny', () => {
  it('turns every 4xx of the core into a 403 with the same code and detail, and keeps 403 and 5xx', () => {
    expect(deny(new ConflictError('several tenants', 'tenant-required'))).toMatchObject({ status: 403, code: 'tenant-required', message: 'several tenants' });
    const forbidden = new ForbiddenError('suspended', 'tenant-suspended');
    expect(deny(forbidden)).toBe(forbidden);
    const down = new DependencyUnavailableError('database', new Error('x'));
    expect(deny(down)).toBe(down);
    expect(denyUnlessNoneOfOurs(new SubjectNotFoundError('none', false))).toBe(NO_CHANGE);
  });
});
