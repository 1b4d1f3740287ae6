/**
 * A deadlock or serialization failure re-runs an admin mutation once, inside the same
 * idempotency scope; a second one is a 503 counted in database_errors_total. The failures are
 * real PostgreSQL errors, raised by a trigger for as many attempts as a test asks.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, type Database, LockConflictError } from '../../lib/adapters/postgres/database.js';
import { postgresPolicyStore } from '../../lib/adapters/postgres/policy-store.js';
import type { MutationContext } from '../../lib/admin/mutation.js';
import { createRole } from '../../lib/admin/roles.js';
import { createLogger } from '../../lib/observability/logger.js';
import { addTenant } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

describe('a lock conflict in an admin mutation', () => {
  let db: Database;
  const lines: Array<Record<string, unknown>> = [];
  const counted: string[] = [];

  /** The next `attempts` role inserts fail with `sqlState` (a sequence: rollbacks do not undo it). */
  const failNext = async (attempts: number, sqlState: '40P01' | '40001') => {
    await db.query('test.arm', "SELECT setval('conflicts', 1, false)");
    await db.query('test.arm', `CREATE OR REPLACE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('conflicts') <= ${attempts} THEN RAISE EXCEPTION 'forced' USING ERRCODE = '${sqlState}'; END IF;
        RETURN NEW;
      END $$`);
  };
  const ctx = (requestId: string): MutationContext => ({ actor: 'tester', requestId, idempotency: { scope: 'tester role.create retry', key: requestId, body: { requestId } } });
  const rowsFor = async (requestId: string) => {
    const [row] = await db.query<{ audit: number; keys: number; events: number }>(
      'test.rows',
      `SELECT (SELECT count(*)::int FROM audit_log WHERE request_id = $1) AS audit,
              (SELECT count(*)::int FROM idempotency_keys WHERE key = $1) AS keys,
              (SELECT count(*)::int FROM outbox WHERE event->'data'->>'name' = $1) AS events`,
      [requestId],
    );
    return row;
  };

  beforeAll(async () => {
    db = createDatabase({
      url: await createTestDatabase(),
      poolMax: 2,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 1_000,
      queryTimeoutMs: 10_000,
      namedStatements: false,
      log: createLogger('warn', {}, (line) => lines.push(JSON.parse(line))),
      metrics: { databaseError: (operation) => void counted.push(operation) },
    });
    await addTenant(db, 'retry');
    await db.query('test.setup', 'CREATE SEQUENCE conflicts');
    await failNext(0, '40P01');
    await db.query('test.setup', 'CREATE TRIGGER conflict BEFORE INSERT ON roles FOR EACH ROW EXECUTE FUNCTION conflict()');
  });
  afterAll(() => db.end());

  it.each(['40P01', '40001'] as const)('re-runs the whole transaction once after %s and writes everything exactly once, counting nothing', async (sqlState) => {
    const before = counted.length;
    await failNext(1, sqlState);
    const requestId = `req-once-${sqlState}`;
    const reply = await createRole({ store: postgresPolicyStore(db) }, ctx(requestId), 'retry', { name: requestId, permissions: ['x:read'] });
    expect(reply.status).toBe(201);
    expect(await rowsFor(requestId)).toEqual({ audit: 1, keys: 1, events: 1 });
    expect(counted.length).toBe(before);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'database transaction retried after a lock conflict', operation: 'role.create', failed: 'role.create', sqlstate: sqlState, request_id: requestId }),
    );
  });

  it('answers 503 and counts database_errors_total when the retry conflicts too, leaving nothing behind', async () => {
    const before = counted.length;
    await failNext(2, '40P01');
    const requestId = 'req-twice';
    const failure = await createRole({ store: postgresPolicyStore(db) }, ctx(requestId), 'retry', { name: requestId, permissions: [] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockConflictError);
    expect((failure as LockConflictError).status).toBe(503);
    expect(counted.slice(before)).toEqual(['role.create']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'database operation failed', operation: 'role.create' }));
    expect(await rowsFor(requestId)).toEqual({ audit: 0, keys: 0, events: 0 });
    // Two attempts, no third.
    expect((await db.query<{ n: string }>('test.attempts', 'SELECT last_value::text AS n FROM conflicts'))[0]!.n).toBe('2');
  });

  it('does not retry a transaction whose caller says it cannot run again', async () => {
    const before = counted.length;
    await failNext(1, '40P01');
    const failure = await db
      .transaction('test.no_retry', (tx) => tx.query('test.insert', "INSERT INTO roles (tenant_id, name) SELECT id, 'no-retry' FROM tenants WHERE slug = 'retry'"), { retry: () => false })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockConflictError);
    expect(counted.slice(before)).toEqual(['test.insert']);
  });
});
