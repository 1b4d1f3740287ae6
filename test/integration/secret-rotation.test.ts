/**
 * Credentials from Secrets Manager, rotated under load. enrich-token runs as in Lambda: its
 * environment names the secrets (database, API keys), the real AWS SDK reads them from a
 * Secrets Manager stand-in on loopback, and PostgreSQL checks passwords (an embedded server
 * with password authentication; the machine's server trusts loopback and would prove nothing).
 *
 * The rotation is AWS's alternating-users scheme: the secret moves to a second database user
 * with a new password, and the next rotation changes the first user's password. Connections are
 * recycled constantly (1 ms idle timeout), so the service meets the refused password on a new
 * connection, re-reads the secret and reconnects — and no request fails. An API key added by the
 * same rotation works on its first use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { migrate } from '../../lib/adapters/postgres/migration-runner.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { createLogger } from '../../lib/observability/logger.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../../local/embedded-postgres.js';
import { invoke } from '../support/invoke.js';
import { freePort } from '../support/free-port.js';
import { type SecretsManagerStandIn, startSecretsManager } from '../support/secrets-manager.js';

const OLD_KEY = 'gateway-key-before-rotation-0123456789abc';
const NEW_KEY = 'gateway-key-after-rotation-0123456789abcd';

describe('secrets rotated in Secrets Manager while enrich-token serves', () => {
  let dir: string;
  let database: EmbeddedDatabase;
  let owner: pg.Client;
  let secrets: SecretsManagerStandIn;
  let handler: LambdaHttpHandler;
  let port: number;
  const emitted: string[] = [];
  const dbSecret = (username: string, password: string) => JSON.stringify({ engine: 'postgres', username, password, host: '127.0.0.1', port, dbname: 'iam' });

  beforeAll(async () => {
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    dir = mkdtempSync(join(tmpdir(), 'iam-rotation-'));
    port = await freePort();
    database = await startEmbeddedPostgres({ dir: join(dir, 'pg'), port, password: 'owner-password', database: 'iam', onLog: () => undefined });
    await migrate({ databaseUrl: database.url, bootstrapAdminSubject: undefined, log: createLogger('error') });
    owner = new pg.Client({ connectionString: database.url });
    await owner.connect();
    await owner.query(`
      CREATE ROLE iam_a LOGIN PASSWORD 'password-a-1'; CREATE ROLE iam_b LOGIN PASSWORD 'password-b-0';
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO iam_a, iam_b;
      INSERT INTO tenants (slug, name) VALUES ('acme', 'Acme');
      INSERT INTO roles (tenant_id, name, permissions) SELECT id, 'viewer', '{invoices:read}' FROM tenants WHERE slug = 'acme';
      INSERT INTO subjects (tenant_id, subject) SELECT id, 'alice' FROM tenants WHERE slug = 'acme';
      INSERT INTO subject_roles (tenant_id, subject, role_id) SELECT tenant_id, 'alice', id FROM roles WHERE name = 'viewer';`);

    secrets = await startSecretsManager();
    secrets.put('iam/test/database', dbSecret('iam_a', 'password-a-1'));
    secrets.put('iam/test/enrich-api-keys', JSON.stringify({ keys: [OLD_KEY] }));
    for (const name of ['DATABASE_URL', 'ENRICH_API_KEYS']) delete process.env[name];
    Object.assign(process.env, {
      DATABASE_SECRET_ID: 'iam/test/database',
      ENRICH_API_KEYS_SECRET_ID: 'iam/test/enrich-api-keys',
      SECRETS_MANAGER_ENDPOINT: secrets.endpoint,
      SECRETS_MIN_REFRESH_MS: '0',
      // What Lambda provides; static, so the SDK looks nowhere else for credentials.
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
      AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
      DB_IDLE_TIMEOUT_MS: '1',
      LOG_LEVEL: 'info',
    });
    ({ handler } = await import('../../functions/enrich-token.js'));
    // A warm container: its first secret read imports the SDK, which belongs to no rotation.
    expect((await enrich(OLD_KEY)).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await owner?.end();
    await secrets?.stop();
    await database?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const enrich = (key: string) => invoke(handler, { headers: { 'x-api-key': key }, body: { subject: 'alice' } });

  it('serves a stream of requests through two rotations with zero failures', async () => {
    const statuses: number[] = [];
    let key = OLD_KEY;
    let running = true;
    // Short pauses between requests let the pool's connections go idle and close (1 ms), so
    // new connections — the ones a changed password refuses — are opened all the time.
    const caller = async () => {
      while (running) {
        statuses.push((await enrich(key)).status);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    };
    const callers = [caller(), caller(), caller(), caller()];
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

    await settle();
    // Rotation 1 (alternating users): iam_b gets a new password and becomes current; a new
    // gateway key is added beside the old one, and the gateway starts using it at once.
    await owner.query("ALTER ROLE iam_b PASSWORD 'password-b-1'");
    secrets.put('iam/test/database', dbSecret('iam_b', 'password-b-1'));
    secrets.put('iam/test/enrich-api-keys', JSON.stringify({ keys: [OLD_KEY, NEW_KEY] }));
    key = NEW_KEY;
    await settle();
    // Rotation 2 changes the other user's password: a container still on iam_a is refused.
    await owner.query("ALTER ROLE iam_a PASSWORD 'password-a-2'");
    await settle();
    running = false;
    await Promise.all(callers);

    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(secrets.reads('iam/test/database')).toBeGreaterThanOrEqual(2); // the first read, and the re-read after 28P01
    expect(emitted.some((line) => line.includes('database credentials were rotated'))).toBe(true);
    const sessions = await owner.query<{ usename: string }>("SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'iam-service'");
    expect(sessions.rows.map((row) => row.usename)).not.toContain('iam_a');
  });

  it('never writes a secret value to its logs', () => {
    const logs = emitted.join('\n');
    for (const value of ['password-a-1', 'password-a-2', 'password-b-1', OLD_KEY, NEW_KEY]) expect(logs).not.toContain(value);
  });
});
