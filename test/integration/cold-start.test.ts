import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { startSecretsExtension } from '../support/secrets-extension.js';
import { startSecretsManager } from '../support/secrets-manager.js';

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
    ['admin-api', { ADMIN_OPERATION: 'createTenant', DATABASE_URL: 'postgres//db.internal:5432/iam' }, 'DATABASE_URL'],
    ['client-api', { ADMIN_OPERATION: 'createClient', DATABASE_URL: 'postgres//db.internal:5432/iam' }, 'DATABASE_URL'],
    ['client-api', { ADMIN_OPERATION: 'createClient', DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam', RAUTH_URL: 'http://127.0.0.1:1' }, 'RAUTH_'],
    ['admin-api', { ADMIN_OPERATION: 'createTenant', DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' }, 'RAUTH_URL'],
    // An admin function serves the operation its ADMIN_OPERATION names, of its own bundle only.
    ['admin-api', { ADMIN_OPERATION: 'createClient', DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' }, 'ADMIN_OPERATION'],
    ['client-api', { ADMIN_OPERATION: 'getTenant', DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' }, 'ADMIN_OPERATION'],
    ['admin-api', { DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam' }, 'ADMIN_OPERATION'],
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

/**
 * Runs `script` in a fresh Node process (tsx) whose module loader records every specifier it
 * resolves; the script's `loaded(name)` says whether one was imported so far. Async: the secret
 * stand-ins answer from this process.
 */
async function recordingImports(env: Record<string, string>, script: string): Promise<Array<Record<string, unknown>>> {
  const record = path.join(mkdtempSync(path.join(tmpdir(), 'iam-imports-')), 'resolved.txt');
  writeFileSync(record, '');
  const hooks = `import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) { appendFileSync(${JSON.stringify(record)}, specifier + '\\n'); return next(specifier, context); }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const prelude = `import { readFileSync } from 'node:fs';
    const loaded = (name) => readFileSync(${JSON.stringify(record)}, 'utf8').split('\\n').includes(name);
    const say = (line) => process.stdout.write(JSON.stringify(line) + '\\n');`;
  const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--import', 'tsx', '--input-type=module', '-e', `${prelude}\n${script}`], {
    env: { PATH: process.env.PATH ?? '', AWS_EMF_ENVIRONMENT: 'Local', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  rmSync(path.dirname(record), { recursive: true, force: true });
  if (code !== 0) throw new Error(`exit ${code}: ${stderr.slice(-800)}`);
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => 'phase' in line);
}

const SDK = '@aws-sdk/client-secrets-manager';
// A key the secret does not hold: the handler reads the secret (and once more, fresh), then answers 401.
const requestWithUnknownKey = `
  const { handler } = await import('./functions/enrich-token.ts');
  say({ phase: 'init', sdk: loaded('${SDK}') });
  const response = await handler(
    { rawPath: '/system/enrich-token', headers: { 'x-api-key': 'k'.repeat(43), 'content-type': 'application/json' }, body: '{"subject":"u"}', isBase64Encoded: false, requestContext: { requestId: 'r-1' } },
    { awsRequestId: 'r-1' },
  );
  say({ phase: 'request', status: response.statusCode, sdk: loaded('${SDK}') });`;

describe('the Secrets Manager client at a cold start', () => {
  it('is not imported by module init, only by the first secret read (SECRETS_SOURCE=secrets-manager)', async () => {
    const sm = await startSecretsManager();
    try {
      sm.put('iam/cold/enrich-keys', JSON.stringify(['a'.repeat(43)]));
      const phases = await recordingImports(
        {
          DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam',
          ENRICH_API_KEYS_SECRET_ID: 'iam/cold/enrich-keys',
          SECRETS_MANAGER_ENDPOINT: sm.endpoint,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
          AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
        },
        requestWithUnknownKey,
      );
      expect(phases).toEqual([
        { phase: 'init', sdk: false },
        { phase: 'request', status: 401, sdk: true },
      ]);
      expect(sm.reads('iam/cold/enrich-keys')).toBeGreaterThanOrEqual(1);
    } finally {
      await sm.stop();
    }
  }, 30_000);

  it('is never imported when secrets come through the Parameters and Secrets extension (SECRETS_SOURCE=extension)', async () => {
    const extension = await startSecretsExtension();
    try {
      extension.put('iam/cold/enrich-keys', JSON.stringify(['a'.repeat(43)]));
      const phases = await recordingImports(
        {
          DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam',
          ENRICH_API_KEYS_SECRET_ID: 'iam/cold/enrich-keys',
          SECRETS_SOURCE: 'extension',
          // The stand-in listens on 127.0.0.1; the service asks localhost:<port>, as in Lambda.
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: new URL(extension.url).port,
          AWS_SESSION_TOKEN: extension.sessionToken,
        },
        requestWithUnknownKey,
      );
      expect(phases).toEqual([
        { phase: 'init', sdk: false },
        { phase: 'request', status: 401, sdk: false },
      ]);
      expect(extension.reads('iam/cold/enrich-keys')).toBeGreaterThanOrEqual(1);
    } finally {
      await extension.stop();
    }
  }, 30_000);

  it('refuses SECRETS_SOURCE=extension without AWS_SESSION_TOKEN, naming it', () => {
    const { status, lines } = coldStart({ DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam', ENRICH_API_KEYS_SECRET_ID: 'iam/keys', SECRETS_SOURCE: 'extension' });
    expect(status).not.toBe(0);
    expect(JSON.parse(lines[0]!).invalid).toEqual([expect.stringMatching(/^AWS_SESSION_TOKEN: is required by SECRETS_SOURCE=extension/)]);
  });
});
