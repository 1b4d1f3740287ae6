/**
 * The database of `npm run migrate` and `npm run rollback`: DATABASE_URL, or with
 * DATABASE_SECRET_ID the credentials from Secrets Manager (on DATABASE_URL's endpoint, else the
 * secret's host) — the service's own configuration path (lib/wiring/base.ts).
 */
import { databaseUrlWith } from '../lib/adapters/postgres/database.js';
import { processEnv } from '../lib/config.js';
import { runtime } from '../lib/wiring/base.js';

/** Is a database configured at all (DATABASE_URL or DATABASE_SECRET_ID)? */
export function databaseConfigured(): boolean {
  const env = processEnv();
  return Boolean(env.DATABASE_URL || env.DATABASE_SECRET_ID);
}

/** The primary's URL with credentials. The runtime's pool is ended: a script connects its own. */
export async function primaryDatabaseUrl(): Promise<string> {
  const { config, credentials, db } = runtime();
  await db.end();
  return credentials.database ? databaseUrlWith(config.database.url, await credentials.database()) : config.database.url!;
}
