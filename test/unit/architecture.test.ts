/**
 * Imports flow one way: functions/ → lib/wiring/ → lib/adapters/ → the domain folders
 * (lib/admin, lib/gateway, lib/policy, …). A domain folder names what it needs in its ports.ts
 * and never imports an adapter or a composition root. The one exception is the admin route
 * table, lib/admin/routes.ts: it binds each operation to its use case and, for a resource's
 * own repository, to its adapter, so that adding an admin resource stays within three files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const lib = fileURLToPath(new URL('../../lib', import.meta.url));
const OUTER = new Set(['adapters', 'wiring']);
const ALLOWED = new Set(['admin/routes.ts']);

/** Every .ts file under lib/, as a path relative to lib/. */
const files = (readdirSync(lib, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts')).map((file) => file.split(path.sep).join('/'));

/** The lib/ folders a file's relative imports reach, e.g. `adapters` for `../adapters/postgres/x.js`. */
function importedFolders(file: string): string[] {
  const text = readFileSync(path.join(lib, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).split('/')[0]!);
}

describe('import direction', () => {
  it('finds the files it checks, including the exception', () => {
    expect(files).toEqual(expect.arrayContaining(['admin/routes.ts', 'wiring/admin.ts', 'adapters/postgres/policy-store.ts']));
    expect(importedFolders('wiring/admin.ts')).toContain('adapters');
  });

  it('no domain folder imports an adapter or a composition root (except the admin route table)', () => {
    const domain = files.filter((file) => !OUTER.has(file.split('/')[0]!) && !ALLOWED.has(file));
    const violations = domain.flatMap((file) => importedFolders(file).filter((folder) => OUTER.has(folder)).map((folder) => `${file} → lib/${folder}`));
    expect(violations).toEqual([]);
  });

  it('adapters never import a composition root', () => {
    const adapters = files.filter((file) => file.startsWith('adapters/'));
    expect(adapters.length).toBeGreaterThan(10);
    expect(adapters.filter((file) => importedFolders(file).includes('wiring'))).toEqual([]);
  });
});
