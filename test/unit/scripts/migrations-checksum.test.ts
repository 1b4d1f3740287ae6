import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { checkChecksums, sha256 } from '../../../lib/adapters/postgres/migration-files.js';
import { appendChecksums } from '../../../scripts/migrations-checksum.js';

let dir: string;
const write = (file: string, text: string) => writeFileSync(path.join(dir, file), text);
const checksums = () => readFileSync(path.join(dir, 'checksums.txt'), 'utf8');

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iam-checksums-'));
  write('1700000000000_a.sql', '-- Up Migration\nCREATE TABLE a ();\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run migrations:checksum', () => {
  it('appends a sha256sum line for each new migration and keeps the existing lines as they are', () => {
    expect(appendChecksums(dir)).toEqual(['1700000000000_a.sql']);
    const first = checksums();
    expect(first).toBe(`${sha256('-- Up Migration\nCREATE TABLE a ();\n')}  1700000000000_a.sql\n`);
    write('1700000000001_b.sql', '-- Up Migration\nCREATE TABLE b ();\n');
    expect(appendChecksums(dir)).toEqual(['1700000000001_b.sql']);
    expect(checksums().startsWith(first)).toBe(true);
    expect(appendChecksums(dir)).toEqual([]);
    expect(execFileSync('sha256sum', ['-c', 'checksums.txt'], { cwd: dir, encoding: 'utf8' })).toBe('1700000000000_a.sql: OK\n1700000000001_b.sql: OK\n');
  });

  it('never rewrites the line of an edited migration: the check keeps reporting it', () => {
    appendChecksums(dir);
    const recorded = checksums();
    write('1700000000000_a.sql', '-- Up Migration\nCREATE TABLE a (id int);\n');
    expect(appendChecksums(dir)).toEqual([]);
    expect(checksums()).toBe(recorded);
    expect(checkChecksums(dir)).toEqual({ edited: ['1700000000000_a.sql'], missing: [], vanished: [] });
  });
});
