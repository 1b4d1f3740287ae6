import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postgresClaimsReader } from '../../lib/adapters/postgres/claims-reader.js';
import type { Database } from '../../lib/adapters/postgres/database.js';
import type { ClaimsReader } from '../../lib/policy/ports.js';
import { forgetHome } from '../support/homes.js';
import { addRole, addTenant, mapSubject, testDatabase } from '../support/policy-fixture.js';
import { BOOTSTRAP_ADMIN, createTestDatabase } from '../support/test-database.js';

describe('postgresClaimsReader', () => {
  let db: Database;
  let reader: ClaimsReader;
  const ids = {} as Record<'acme' | 'globex' | 'frozen' | 'viewer', string>;

  beforeAll(async () => {
    db = testDatabase(await createTestDatabase());
    reader = postgresClaimsReader(db);
    ids.acme = await addTenant(db, 'acme');
    ids.globex = await addTenant(db, 'globex');
    ids.frozen = await addTenant(db, 'frozen', 'suspended');
    const billing = await addRole(db, ids.acme, 'billing-admin', ['invoices:write', 'invoices:read']);
    const viewer = await addRole(db, ids.acme, 'viewer', ['invoices:read', 'reports:read']);
    const globexViewer = await addRole(db, ids.globex, 'viewer', ['reports:read']);
    const frozenRole = await addRole(db, ids.frozen, 'any', ['x:y']);
    ids.viewer = viewer;
    await mapSubject(db, ids.acme, 'alice', [billing, viewer]);
    await mapSubject(db, ids.acme, 'bob', [viewer]);
    await mapSubject(db, ids.globex, 'bob', [globexViewer]);
    // In both tenants from before homes existed: no home.
    await mapSubject(db, ids.acme, 'dora', [viewer]);
    await mapSubject(db, ids.globex, 'dora', [globexViewer]);
    await forgetHome(db, 'dora');
    await mapSubject(db, ids.acme, 'no-roles', []);
    await mapSubject(db, ids.frozen, 'carol', [frozenRole]);
    await mapSubject(db, ids.globex, 'svc-reports', [globexViewer], 'client');
    await db.query(
      'fixture.client',
      "INSERT INTO clients (tenant_id, client_id, client_name, created_by) VALUES ($1, 'svc-reports', 'Reports', 'test')",
      [ids.globex],
    );
  });
  afterAll(() => db.end());

  it('returns roles sorted and permissions de-duplicated and sorted', async () => {
    expect(await reader.resolveClaims({ subject: 'alice', tenant: 'acme' })).toEqual({
      outcome: 'ok',
      tenant: { id: ids.acme, slug: 'acme' },
      subjectType: 'user',
      roles: ['billing-admin', 'viewer'],
      permissions: ['invoices:read', 'invoices:write', 'reports:read'],
    });
  });

  it('finds the only tenant of a subject when none is named', async () => {
    expect(await reader.resolveClaims({ subject: 'alice' })).toMatchObject({ outcome: 'ok', tenant: { slug: 'acme' } });
  });

  it('answers a subject in several tenants from its home tenant (the one that mapped it first) when none is named', async () => {
    expect(await reader.resolveClaims({ subject: 'bob' })).toMatchObject({ outcome: 'ok', tenant: { slug: 'acme' }, roles: ['viewer'] });
    expect(await reader.resolveClaims({ subject: 'bob', clientId: 'svc-reports' })).toMatchObject({ outcome: 'ok', tenant: { slug: 'acme' } });
  });

  it('calls a subject in several tenants without a home ambiguous when none is named', async () => {
    expect(await reader.resolveClaims({ subject: 'dora' })).toEqual({ outcome: 'ambiguous' });
  });

  it('answers from the named tenant only', async () => {
    expect(await reader.resolveClaims({ subject: 'bob', tenant: 'globex' })).toMatchObject({
      outcome: 'ok',
      roles: ['viewer'],
      permissions: ['reports:read'],
    });
  });

  it('lets the client a token is issued to pick among the subject’s tenants', async () => {
    expect(await reader.resolveClaims({ subject: 'dora', clientId: 'svc-reports' })).toMatchObject({
      outcome: 'ok',
      tenant: { slug: 'globex' },
    });
  });

  it('does not let an unknown client pick a tenant', async () => {
    expect(await reader.resolveClaims({ subject: 'dora', clientId: 'unknown' })).toEqual({ outcome: 'ambiguous' });
  });

  it('answers a registered client as a client subject', async () => {
    expect(await reader.resolveClaims({ subject: 'svc-reports' })).toMatchObject({ outcome: 'ok', subjectType: 'client', roles: ['viewer'] });
  });

  it('returns empty roles and permissions for a member without roles', async () => {
    expect(await reader.resolveClaims({ subject: 'no-roles', tenant: 'acme' })).toMatchObject({ outcome: 'ok', roles: [], permissions: [] });
  });

  it('tells a subject in no tenant from one that names a tenant it is not in, but never whether that tenant exists or is suspended', async () => {
    expect(await reader.resolveClaims({ subject: 'alice', tenant: 'nope' })).toEqual({ outcome: 'not_member' });
    expect(await reader.resolveClaims({ subject: 'alice', tenant: 'globex' })).toEqual({ outcome: 'not_member' });
    expect(await reader.resolveClaims({ subject: 'alice', tenant: 'frozen' })).toEqual({ outcome: 'not_member' });
    expect(await reader.resolveClaims({ subject: 'nobody', tenant: 'acme' })).toEqual({ outcome: 'subject_not_found' });
    expect(await reader.resolveClaims({ subject: 'nobody', tenant: 'nope' })).toEqual({ outcome: 'subject_not_found' });
    expect(await reader.resolveClaims({ subject: 'nobody' })).toEqual({ outcome: 'subject_not_found' });
  });

  it('refuses claims in a suspended tenant', async () => {
    expect(await reader.resolveClaims({ subject: 'carol' })).toMatchObject({ outcome: 'tenant_suspended', tenant: { slug: 'frozen' } });
  });

  it('stops granting a role the moment it is deleted', async () => {
    const temp = await addRole(db, ids.acme, 'temp', ['temp:use']);
    await mapSubject(db, ids.acme, 'dave', [temp, ids.viewer]);
    expect(await reader.resolveClaims({ subject: 'dave' })).toMatchObject({ roles: ['temp', 'viewer'] });
    await db.query('test.delete_role', 'DELETE FROM roles WHERE id = $1', [temp]);
    expect(await reader.resolveClaims({ subject: 'dave' })).toMatchObject({ roles: ['viewer'], permissions: ['invoices:read', 'reports:read'] });
  });

  it('reflects a change of a role’s permissions in every holder’s claims at once', async () => {
    await db.query('test.perm', "UPDATE roles SET permissions = '{invoices:read,audit:read}' WHERE id = $1", [ids.viewer]);
    try {
      expect(await reader.resolveClaims({ subject: 'alice' })).toMatchObject({ permissions: ['audit:read', 'invoices:read', 'invoices:write'] });
      expect(await reader.resolveClaims({ subject: 'bob', tenant: 'acme' })).toMatchObject({ permissions: ['audit:read', 'invoices:read'] });
    } finally {
      await db.query('test.perm', "UPDATE roles SET permissions = '{invoices:read,reports:read}' WHERE id = $1", [ids.viewer]);
    }
  });

  it('forgets a subject removed from its tenant, and a deleted tenant', async () => {
    const temp = await addTenant(db, 'short-lived');
    await mapSubject(db, temp, 'erin', []);
    expect(await reader.resolveClaims({ subject: 'erin' })).toMatchObject({ outcome: 'ok' });
    await db.query('test.unmap', "DELETE FROM subjects WHERE subject = 'erin'");
    expect(await reader.resolveClaims({ subject: 'erin' })).toEqual({ outcome: 'subject_not_found' });
    await mapSubject(db, temp, 'erin', []);
    await db.query('test.drop_tenant', 'DELETE FROM tenants WHERE id = $1', [temp]);
    expect(await reader.resolveClaims({ subject: 'erin' })).toEqual({ outcome: 'subject_not_found' });
  });

  it('resumes a suspended tenant’s subjects when it is reactivated', async () => {
    await db.query('test.resume', "UPDATE tenants SET status = 'active' WHERE slug = 'frozen'");
    try {
      expect(await reader.resolveClaims({ subject: 'carol' })).toMatchObject({ outcome: 'ok', roles: ['any'] });
    } finally {
      await db.query('test.suspend', "UPDATE tenants SET status = 'suspended' WHERE slug = 'frozen'");
    }
  });

  it('treats subjects as exact strings, not patterns', async () => {
    expect(await reader.resolveClaims({ subject: 'ali%' })).toEqual({ outcome: 'subject_not_found' });
    expect(await reader.resolveClaims({ subject: "alice' OR '1'='1" })).toEqual({ outcome: 'subject_not_found' });
  });

  it('maps the bootstrap admin to iam:* in the platform tenant', async () => {
    expect(await reader.resolveClaims({ subject: BOOTSTRAP_ADMIN })).toMatchObject({ outcome: 'ok', tenant: { slug: 'platform' }, permissions: ['iam:*'] });
  });
});
