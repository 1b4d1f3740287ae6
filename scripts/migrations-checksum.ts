/**
 * `npm run migrations:checksum`: appends a sha256 line to migrations/checksums.txt for every
 * migration that has none yet. It never rewrites an existing line: an applied migration is never
 * edited, and `npm run migrate` and the tests refuse one whose bytes no longer match its line.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKSUMS_FILE, checkChecksums, checksumLine, EDITED_MESSAGE, migrationFiles, MIGRATIONS_DIR } from '../lib/adapters/postgres/migration-files.js';

/** Appends entries for the files without one; returns their names. */
export function appendChecksums(dir: string = MIGRATIONS_DIR): string[] {
  const { missing } = checkChecksums(dir);
  const file = path.join(dir, CHECKSUMS_FILE);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = migrationFiles(dir).filter((m) => missing.includes(m.file)).map(checksumLine);
  if (lines.length > 0) appendFileSync(file, (current === '' || current.endsWith('\n') ? '' : '\n') + lines.join(''));
  return missing;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const added = appendChecksums();
  process.stdout.write(added.length > 0 ? `Added to migrations/${CHECKSUMS_FILE}: ${added.join(', ')}\n` : `migrations/${CHECKSUMS_FILE} already lists every migration.\n`);
  const { edited } = checkChecksums();
  if (edited.length > 0) {
    process.stderr.write(`Edited since their checksum was recorded: ${edited.join(', ')}. ${EDITED_MESSAGE}.\n`);
    process.exitCode = 1;
  }
}
