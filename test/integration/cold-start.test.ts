import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

/** Starts a fresh Node process that imports the enrich-token function, as a Lambda cold start does. */
function coldStart(env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "await import('./functions/enrich-token.ts')"],
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

  it('succeeds without touching the database when the configuration is valid', () => {
    // Nothing listens on port 1: the pool connects lazily, so the import alone must not fail.
    const { status, lines } = coldStart({ DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' });
    expect({ status, lines }).toEqual({ status: 0, lines: [] });
  });
});
