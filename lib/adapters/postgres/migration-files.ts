/**
 * What migrations/ holds: the files in order, which of them are *contract* migrations, and the
 * checksum of each. Read by `npm run migrate` (refuses an edited migration), `npm run rollback`
 * (refuses to go back past a contract migration) and `npm run migrations:checksum`.
 * scripts/migration-head.cjs reads the same facts for serverless.yml (a test keeps both in step).
 *
 * A contract migration drops, renames or narrows something that earlier releases use; its first
 * line says so: `-- contract: drops … used by releases before …`. Everything else only adds.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations', import.meta.url));
/** sha256sum's format (`<hex>  <file>`), so `cd migrations && sha256sum -c checksums.txt` works. */
export const CHECKSUMS_FILE = 'checksums.txt';

export interface MigrationFile {
  /** The name node-pg-migrate records in `pgmigrations`: the file name without `.sql`. */
  name: string;
  file: string;
  /** The text after `-- contract:` on the first line; undefined for an expand-only migration. */
  contract: string | undefined;
  sha256: string;
}

const CONTRACT_HEADER = /^--\s*contract:\s*(.*\S)\s*$/;

export function contractNote(sql: string): string | undefined {
  const firstLine = sql.split('\n', 1)[0] ?? '';
  return CONTRACT_HEADER.exec(firstLine)?.[1];
}

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Every migration in the order node-pg-migrate applies them (by name: a timestamp prefix). */
export function migrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort(compareNames)
    .map((file) => {
      const bytes = readFileSync(path.join(dir, file));
      return { name: file.slice(0, -'.sql'.length), file, contract: contractNote(bytes.toString('utf8')), sha256: sha256(bytes) };
    });
}

/** Migration names sort by their timestamp prefix, then by the rest. */
export function compareNames(a: string, b: string): number {
  const [ta, tb] = [Number.parseInt(a, 10), Number.parseInt(b, 10)];
  if (ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** file -> sha256 from checksums.txt ('' or a missing file: none). */
export function parseChecksums(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) entries.set(match[2]!, match[1]!);
  }
  return entries;
}

export const checksumLine = (migration: Pick<MigrationFile, 'file' | 'sha256'>): string => `${migration.sha256}  ${migration.file}\n`;

export function readChecksums(dir: string = MIGRATIONS_DIR): Map<string, string> {
  const file = path.join(dir, CHECKSUMS_FILE);
  return parseChecksums(existsSync(file) ? readFileSync(file, 'utf8') : '');
}

export interface ChecksumReport {
  /** Files whose bytes differ from their recorded checksum: an applied migration was edited. */
  edited: string[];
  /** Files with no entry yet (a new migration: `npm run migrations:checksum` adds it). */
  missing: string[];
  /** Entries naming a file that is gone. */
  vanished: string[];
}

export function checkChecksums(dir: string = MIGRATIONS_DIR): ChecksumReport {
  const recorded = readChecksums(dir);
  const files = migrationFiles(dir);
  return {
    edited: files.filter((m) => recorded.has(m.file) && recorded.get(m.file) !== m.sha256).map((m) => m.file),
    missing: files.filter((m) => !recorded.has(m.file)).map((m) => m.file),
    vanished: [...recorded.keys()].filter((file) => !files.some((m) => m.file === file)),
  };
}

export const EDITED_MESSAGE =
  'applied migrations are never edited: restore the file to the version in migrations/checksums.txt and make the change in a new migration';
export const MISSING_MESSAGE = 'a new migration needs its checksum: run `npm run migrations:checksum` (it appends entries for new files only) and commit migrations/checksums.txt';
