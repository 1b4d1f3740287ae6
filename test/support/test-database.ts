/**
 * Fresh databases for tests. The global setup migrates one template database per run;
 * each test file clones it (CREATE DATABASE … TEMPLATE, ~100 ms) and so starts from the
 * migrated schema with no rows but the platform tenant and the bootstrap admin.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Must match test/global-setup.mjs. */
export const BOOTSTRAP_ADMIN = 'test-platform-admin';

export interface TestRun {
  adminUrl: string;
  /** Prefix of every database this run creates; global teardown drops them all. */
  prefix: string;
  template: string;
}

export function testRun(): TestRun {
  const raw = process.env.IAM_TEST_RUN;
  if (!raw) throw new Error('IAM_TEST_RUN is not set: run the tests through jest (global setup)');
  return JSON.parse(raw) as TestRun;
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database (or a clone of the run's migrated template) and returns its URL. */
export async function createTestDatabase(options: { migrated: boolean } = { migrated: true }): Promise<string> {
  const run = testRun();
  const name = `${run.prefix}_${randomBytes(4).toString('hex')}`;
  await withAdmin(run.adminUrl, (client) =>
    client.query(
      `CREATE DATABASE ${pg.escapeIdentifier(name)}` +
        (options.migrated ? ` TEMPLATE ${pg.escapeIdentifier(run.template)}` : ''),
    ),
  );
  return databaseUrl(run.adminUrl, name);
}
