/** What a deployment records about its migrations, and how contract migrations are marked. */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { migrationFiles, MIGRATIONS_DIR } from '../../../lib/adapters/postgres/migration-files.js';
import { recordFromOutputs, serviceFacts, templateKey } from '../../../scripts/deployment-records.js';

const require = createRequire(import.meta.url);
const headScript = require('../../../scripts/migration-head.cjs') as { head(): string; contract(): string };
const serverlessYml = readFileSync(new URL('../../../serverless.yml', import.meta.url), 'utf8');
const files = migrationFiles();

describe('the migration record of a deployment', () => {
  it('is the last migration and the last contract migration, read by serverless.yml as the TypeScript reads them', () => {
    expect(headScript.head()).toBe(files.at(-1)!.name);
    expect(headScript.contract()).toBe(files.filter((f) => f.contract !== undefined).at(-1)?.name ?? 'none');
  });

  it('is a stack output of every deployment, resolved at package time', () => {
    expect(serverlessYml).toMatch(/^ {4}MigrationHead:\n {6}Value: \$\{file\(\.\/scripts\/migration-head\.cjs\):head\}$/m);
    expect(serverlessYml).toMatch(/^ {4}MigrationContract:\n {6}Value: \$\{file\(\.\/scripts\/migration-head\.cjs\):contract\}$/m);
  });

  it("is read back from outputs ('none': no contract migration)", () => {
    expect(recordFromOutputs({ MigrationHead: 'a', MigrationContract: 'none' })).toEqual({ head: 'a', contract: undefined });
    expect(recordFromOutputs({ MigrationHead: 'a', MigrationContract: 'b' })).toEqual({ head: 'a', contract: 'b' });
    expect(recordFromOutputs({ AlarmTopicArn: 'x' })).toBeUndefined();
  });

  it('is found where serverless keeps a deployment (osls rollback.js: `<ms>-<ISO date>`)', () => {
    expect(templateKey('iam-service', 'prod', 1795279233000)).toBe('serverless/iam-service/prod/1795279233000-2026-11-21T16:40:33.000Z/compiled-cloudformation-template.json');
    expect(serviceFacts(serverlessYml)).toEqual({ service: 'iam-service', defaultRegion: 'eu-west-1' });
  });
});

describe('contract migrations', () => {
  it('are marked on their first line', () => {
    expect(files.filter((f) => f.contract !== undefined).map((f) => f.name)).toContain('1763900000003_drop-resolve-claims-function');
  });

  // A top-level DROP, RENAME or type change in the up section drops or narrows what running code
  // may use: such a migration must say which releases it breaks (statements inside a DO block,
  // like the guarded repair of 1764000000010, are not seen here and are reviewed by hand).
  // Triggers and trigger functions are not used by running code, only fired by the database:
  // replacing them (1764300000000's set-based read model) narrows nothing a release calls. Nor
  // does dropping an index that is not unique: no release names one, and its queries still run
  // (a unique index can back an ON CONFLICT or a guarantee the code relies on: that one narrows).
  const sqlOf = (file: string) => readFileSync(`${MIGRATIONS_DIR}/${file}`, 'utf8');
  const triggerFunctions = new Set(
    files.flatMap((f) => [...sqlOf(f.file).matchAll(/CREATE (?:OR REPLACE )?FUNCTION (\w+)\([^)]*\)\s+RETURNS trigger\b/gi)].map((m) => m[1]!)),
  );
  const uniqueIndexes = new Set(files.flatMap((f) => [...sqlOf(f.file).matchAll(/CREATE UNIQUE INDEX (?:IF NOT EXISTS )?(\w+)/gi)].map((m) => m[1]!)));
  const narrows = (statement: string) => {
    if (/^DROP TRIGGER /.test(statement)) return false;
    const index = /^DROP INDEX (?:IF EXISTS )?(\w+)/.exec(statement);
    if (index) return uniqueIndexes.has(index[1]!);
    const dropped = /^DROP FUNCTION (\w+)/.exec(statement);
    if (dropped) return !triggerFunctions.has(dropped[1]!);
    return /^(DROP |ALTER TABLE .*\b(DROP|RENAME)\b|ALTER TABLE .*\bALTER COLUMN .*\b(TYPE|SET NOT NULL)\b)/.test(statement);
  };

  it('tell a trigger function from one running code calls', () => {
    expect(triggerFunctions).toContain('iam_claims_home');
    expect(triggerFunctions).not.toContain('iam_resolve_claims');
    expect(narrows('DROP FUNCTION iam_resolve_claims(text, text, text);')).toBe(true);
    expect(narrows('DROP FUNCTION iam_claims_home();')).toBe(false);
    expect(narrows('DROP TRIGGER subject_claims_home ON subject_claims;')).toBe(false);
    expect(narrows('DROP TABLE tenants;')).toBe(true);
    expect(narrows('DROP INDEX subject_roles_role_idx;')).toBe(false);
    expect(narrows('DROP INDEX subject_claims_lookup_idx;')).toBe(true);
  });

  it('include every migration whose up section drops, renames or changes a type', () => {
    const unmarked = files.filter((f) => {
      const up = sqlOf(f.file).split(/^--\s*Down Migration/im)[0]!;
      return up.split('\n').some(narrows) && f.contract === undefined;
    });
    expect(unmarked.map((f) => f.file)).toEqual([]);
  });
});
