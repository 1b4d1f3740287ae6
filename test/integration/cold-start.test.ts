import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

/** Starts a fresh Node process that imports a function (enrich-token by default), as a Lambda cold start does. */
function coldStart(env: Record<string, string>, fn = 'enrich-token') {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `await import('./functions/${fn}.ts')`],
    {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  const lines = result.stdout.split('\n').filter(Boolean);
  return { status: result.status, lines };
}

describe('a cold start', () => {
  it('fails with one log line naming DATABASE_URL when it is malformed', () => {
    const { status, lines } = coldStart({ DATABASE_URL: 'postgres//db.internal:5432/iam' });
    expect(status).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      msg: 'invalid configuration; refusing to start',
      invalid: [expect.stringMatching(/^DATABASE_URL: must be a postgres:\/\/ URL/)],
    });
  });

  it('names every bad variable in that one line, and no secret value', () => {
    const { status, lines } = coldStart({ ENRICH_API_KEYS: 'short-secret-key', DB_POOL_MAX: '0' });
    expect(status).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).invalid).toEqual([
      'DATABASE_URL: is required (or DATABASE_SECRET_ID naming the credentials secret)',
      expect.stringMatching(/^DB_POOL_MAX: /),
      'ENRICH_API_KEYS.0: each key must be at least 32 characters',
    ]);
    expect(lines[0]).not.toContain('short-secret-key');
  });

  // Runtimes nest (client functions: client → admin → base), and each one reports a bad
  // configuration: the line must still be written once, by whichever finds the problem.
  it.each([
    ['tenant-create', { DATABASE_URL: 'postgres//db.internal:5432/iam' }, 'DATABASE_URL'],
    ['client-create', { DATABASE_URL: 'postgres//db.internal:5432/iam' }, 'DATABASE_URL'],
    ['client-create', { DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam', RAUTH_URL: 'http://127.0.0.1:1' }, 'RAUTH_'],
    ['tenant-create', { DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' }, 'RAUTH_URL'],
    ['outbox-relay', { DATABASE_URL: 'postgres//db.internal:5432/iam' }, 'DATABASE_URL'],
    ['idp-health', { DATABASE_URL: 'postgres//db.internal:5432/iam' }, 'DATABASE_URL'],
  ])('of %s logs the bad configuration once (%j)', (fn, env, variable) => {
    const { status, lines } = coldStart(env, fn);
    expect(status).not.toBe(0);
    const refusals = lines.map((line) => JSON.parse(line) as { msg: string }).filter((line) => line.msg === 'invalid configuration; refusing to start');
    expect(refusals).toEqual([expect.objectContaining({ level: 'error', invalid: expect.arrayContaining([expect.stringContaining(variable)]) })]);
  });

  it('succeeds without touching the database when the configuration is valid', () => {
    // Nothing listens on port 1: the pool connects lazily, so the import alone must not fail.
    const { status, lines } = coldStart({ DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' });
    expect({ status, lines }).toEqual({ status: 0, lines: [] });
  });
});
