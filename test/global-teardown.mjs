/** Drops every database this run created, then stops an embedded server if one was started. */
import pg from 'pg';

export default async function globalTeardown() {
  const run = JSON.parse(process.env.IAM_TEST_RUN);
  const client = new pg.Client({ connectionString: run.adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [run.prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await globalThis.stopTestPostgres?.();
}
