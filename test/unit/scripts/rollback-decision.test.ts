import { describe, expect, it } from '@jest/globals';
import { decideRollback, parseRollbackArgs, schemaFromApplied, schemaFromRecord, type SchemaState } from '../../../scripts/rollback-decision.js';

const T = 1795279233000;
const CONTRACT = '1763900000003_drop-resolve-claims-function';
const files = [
  { name: '1763800000007_resolve-claims-function', contract: undefined },
  { name: '1763900000002_subject-claims', contract: undefined },
  { name: CONTRACT, contract: 'drops iam_resolve_claims(text, text, text)' },
  { name: '1764000000001_outbox-published-index', contract: undefined },
];
const applied: SchemaState = { source: 'database', contract: CONTRACT, note: 'drops iam_resolve_claims(text, text, text)', unknown: [] };

describe('decideRollback', () => {
  it('refuses a target whose head is before the last applied contract migration, naming it, the head and --force', () => {
    const decision = decideRollback({ timestamp: T, target: { head: '1763900000002_subject-claims', contract: undefined }, schema: applied, force: false });
    expect(decision.proceed).toBe(false);
    expect(decision.message).toContain(CONTRACT);
    expect(decision.message).toContain('(drops iam_resolve_claims(text, text, text))');
    expect(decision.message).toContain('up to 1763900000002_subject-claims');
    expect(decision.message).toContain('--force');
  });

  it('lets through a target whose head is the contract migration or later', () => {
    for (const head of [CONTRACT, '1764000000001_outbox-published-index']) {
      expect(decideRollback({ timestamp: T, target: { head, contract: CONTRACT }, schema: applied, force: false })).toMatchObject({ proceed: true, forced: false });
    }
  });

  it('lets any recorded target through when no contract migration is applied', () => {
    const decision = decideRollback({ timestamp: T, target: { head: '1763800000000_tenants', contract: undefined }, schema: { source: 'database', contract: undefined }, force: false });
    expect(decision).toMatchObject({ proceed: true });
    expect(decision.message).toContain('(none, from the database)');
  });

  it('refuses a target without a record, and when nothing says what is applied', () => {
    expect(decideRollback({ timestamp: T, target: undefined, schema: applied, force: false }).message).toContain('has no migration record');
    expect(decideRollback({ timestamp: T, target: { head: CONTRACT, contract: CONTRACT }, schema: undefined, force: false }).message).toContain('nothing says which migrations are applied');
  });

  it('refuses when the database has migrations this checkout does not know', () => {
    const decision = decideRollback({ timestamp: T, target: { head: CONTRACT, contract: CONTRACT }, schema: { ...applied, unknown: ['1799000000000_future'] }, force: false });
    expect(decision.proceed).toBe(false);
    expect(decision.message).toContain('1799000000000_future');
  });

  it('proceeds despite a refusal with --force and says so loudly', () => {
    const decision = decideRollback({ timestamp: T, target: { head: '1763900000002_subject-claims', contract: undefined }, schema: applied, force: true });
    expect(decision).toMatchObject({ proceed: true, forced: true });
    expect(decision.message).toMatch(/^!!! --force: .* DESPITE the schema check !!!/);
    expect(decision.message).toContain(CONTRACT);
  });
});

describe('schema state', () => {
  it('takes the last contract migration pgmigrations lists, classified by the checkout', () => {
    expect(schemaFromApplied(files.map((f) => f.name), files)).toEqual(applied);
    expect(schemaFromApplied(files.slice(0, 2).map((f) => f.name), files)).toEqual({ source: 'database', contract: undefined, note: undefined, unknown: [] });
    expect(schemaFromApplied([...files.map((f) => f.name), '1799000000000_future'], files).unknown).toEqual(['1799000000000_future']);
  });

  it('takes the current deployment record when there is no database', () => {
    expect(schemaFromRecord({ head: '1764000000001_outbox-published-index', contract: CONTRACT }, files)).toEqual({
      source: 'current deployment',
      contract: CONTRACT,
      note: 'drops iam_resolve_claims(text, text, text)',
    });
    expect(schemaFromRecord(undefined, files)).toBeUndefined();
  });
});

describe('parseRollbackArgs', () => {
  it('keeps its own flags from serverless and reads stage, region and timestamp', () => {
    expect(parseRollbackArgs(['--stage', 'prod', '--region=eu-central-1', '-t', String(T), '--force', '--dry-run', '--database-url', 'postgres://x/y', '--verbose'])).toEqual({
      stage: 'prod',
      region: 'eu-central-1',
      timestamp: T,
      databaseUrl: 'postgres://x/y',
      force: true,
      dryRun: true,
      passThrough: ['--stage', 'prod', '--region=eu-central-1', '-t', String(T), '--verbose'],
    });
  });

  it('accepts a date as the timestamp, as serverless does', () => {
    expect(parseRollbackArgs(['--timestamp', '2026-11-21T16:40:33.000Z']).timestamp).toBe(T);
    expect(parseRollbackArgs(['--database-url=postgres://a/b']).databaseUrl).toBe('postgres://a/b');
    expect(parseRollbackArgs([]).timestamp).toBeUndefined();
  });
});
