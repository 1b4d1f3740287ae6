/** ADMIN_OPERATION: read with the rest of the configuration, checked against the bundle's operations in one place. */
import { describe, expect, it } from '@jest/globals';
import { loadConfig, requireAdminOperation } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

const valid = { DATABASE_URL: 'postgres://iam:secret@db.internal:5432/iam' };
const served = ['createTenant', 'whoAmI'] as const;

function refusal(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('requireAdminOperation', () => {
  it('returns the configured operation when the bundle serves it', () => {
    const config = loadConfig({ ...valid, ADMIN_OPERATION: 'whoAmI' });
    expect(config.adminOperation).toBe('whoAmI');
    expect(requireAdminOperation(config, 'admin', served)).toBe('whoAmI');
  });

  it('prefers an operation the caller names (the local front serves them all)', () => {
    expect(requireAdminOperation(loadConfig({ ...valid, ADMIN_OPERATION: 'whoAmI' }), 'admin', served, 'createTenant')).toBe('createTenant');
  });

  it.each([
    ['unset', {}, ''],
    ['empty (unset)', { ADMIN_OPERATION: '' }, ''],
    ['of another bundle', { ADMIN_OPERATION: 'createClient' }, 'createClient'],
    ['an inherited property name', { ADMIN_OPERATION: 'constructor' }, 'constructor'],
  ])('refuses one %s with the one wording, naming the valid ones', (_name, env, named) => {
    expect(refusal(() => requireAdminOperation(loadConfig({ ...valid, ...env }), 'admin', served))).toEqual([
      `ADMIN_OPERATION: must name an operation of the admin bundle (createTenant, whoAmI), not "${named}"`,
    ]);
  });
});
