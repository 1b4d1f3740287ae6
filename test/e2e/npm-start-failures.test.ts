import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '../support/test-database.js';
import { npmStart, REPO_ROOT } from '../support/npm-start.js';
import { freePort } from '../support/free-port.js';

/**
 * `npm start` that cannot start says why in one line (`npm start failed: …`, exit code 1) and
 * leaves .local as it found it; a value kept in .local that the functions would refuse is
 * replaced, not a reason to fail forever.
 */
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'iam-start-fail-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

interface Failed {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Runs local/start.ts to its end (it must fail) over a bare environment. */
function failedStart(stateDir: string, env: Record<string, string>): Promise<Failed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: '0', FUNCTION_URL_PORT: '0', DEV_IDP_PORT: '0', IAM_LOCAL_DIR: stateDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`npm start did not fail within 30 s:\n${stdout}${stderr}`))), 30_000);
    child.once('exit', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

/** The one line it failed with (oidc-provider's Node 20 notice aside). */
const failureLine = (failed: Failed) => {
  const lines = failed.stderr.split('\n').filter((line) => line.startsWith('npm start failed: '));
  expect(lines).toHaveLength(1);
  expect(failed.code).toBe(1);
  return lines[0]!;
};

/** Every file under `dir` with its content, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) files[name] = readFileSync(path, 'utf8');
  }
  return files;
}

async function occupied(): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('npm start that cannot start', () => {
  it.each([
    ['PORT', 'the HTTP API'],
    ['FUNCTION_URL_PORT', "enrich-token's Function URL"],
    ['EMBEDDED_PG_PORT', 'embedded PostgreSQL'],
    ['DEV_IDP_PORT', 'the dev IdP'],
  ])('names a taken port and %s, the variable that moves it', async (variable, what) => {
    const taken = await occupied();
    try {
      const dir = newDir();
      const failed = await failedStart(dir, { EMBEDDED_PG_PORT: String(await freePort()), [variable]: String(taken.port) });
      expect(failureLine(failed)).toBe(`npm start failed: port ${taken.port} (${what}) is already in use: stop what listens there, or set ${variable} to a free port`);
      expect(snapshot(dir)).toEqual({});
    } finally {
      await taken.close();
    }
  });

  it('refuses two variables that name the same port', async () => {
    const failed = await failedStart(newDir(), { PORT: '45123', FUNCTION_URL_PORT: '45123' });
    expect(failureLine(failed)).toBe('npm start failed: PORT and FUNCTION_URL_PORT are both 45123: give each its own port');
  });

  it.each([
    ['ENRICH_API_KEYS', 'too-short', /^npm start failed: invalid configuration: ENRICH_API_KEYS\.0: each key must be at least 32 characters$/],
    ['DATABASE_URL', 'mysql://root@localhost/iam', /^npm start failed: invalid configuration: DATABASE_URL: must be a postgres:\/\/ URL with a host/],
    ['DATABASE_URL', 'not a url', /^npm start failed: invalid configuration: DATABASE_URL: must be a postgres:\/\/ URL with a host/],
    ['NATS_URL', 'nats://127.0.0.1:4222', /^npm start failed: invalid configuration: NATS_URL: must be a ws:\/\/ or wss:\/\/ URL/],
    ['EMBEDDED_PG_PORT', 'fifty', /^npm start failed: invalid configuration: EMBEDDED_PG_PORT: must be a port number \(0-65535\)$/],
  ])('checks %s=%s with the functions’ schema and leaves .local unchanged', async (variable, value, line) => {
    const dir = newDir();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ api_key: 'k'.repeat(43), embedded_password: 'p' }), { mode: 0o600 });
    const before = snapshot(dir);
    const failed = await failedStart(dir, { [variable]: value });
    expect(failureLine(failed)).toMatch(line);
    expect(snapshot(dir)).toEqual(before);
  });

  it('writes nothing at all for a bad configuration on a first start', async () => {
    const dir = join(newDir(), '.local');
    failureLine(await failedStart(dir, { ENRICH_API_KEYS: 'short' }));
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses NATS_URL together with IAM_LOCAL_NATS=1', async () => {
    const failed = await failedStart(newDir(), { NATS_URL: 'ws://127.0.0.1:8222', IAM_LOCAL_NATS: '1' });
    expect(failureLine(failed)).toMatch(/^npm start failed: NATS_URL and IAM_LOCAL_NATS=1 are both set/);
  });

  it('names an external database it cannot reach, without its password', async () => {
    const failed = await failedStart(newDir(), { DATABASE_URL: `postgres://someone:s3cret@127.0.0.1:${await freePort()}/iam` });
    const line = failureLine(failed);
    expect(line).toMatch(/^npm start failed: DATABASE_URL: the database at 127\.0\.0\.1:\d+\/iam cannot be migrated: .*ECONNREFUSED/);
    expect(failed.stderr + failed.stdout).not.toContain('s3cret');
  }, 40_000);

  it('replaces an API key in state.json that fails the schema, says so, and serves with the new one', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ api_key: 'short' }), { mode: 0o600 });
    const started = await npmStart(dir, { DATABASE_URL: await createTestDatabase() });
    try {
      expect(started.output()).toContain('repaired .local/state.json: the API key kept in state.json failed ENRICH_API_KEYS (each key must be at least 32 characters)');
      const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { api_key: string };
      expect(saved.api_key).toBe(started.stack.api_key);
      expect(saved.api_key.length).toBeGreaterThanOrEqual(32);
      const answer = await fetch(started.stack.enrich_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': saved.api_key },
        body: JSON.stringify({ subject: 'user-alice' }),
      });
      expect(answer.status).toBe(200);
    } finally {
      expect(await started.stop()).toBe(true);
    }
  }, 90_000);
});

describe('npm run invoke without a running stack', () => {
  it('says to run npm start first', () => {
    const dir = newDir();
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'local/invoke.ts', 'cognito', 'local/nats-server.conf'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', IAM_LOCAL_DIR: dir },
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(/^npm run invoke: cannot read the event .*nats-server.conf: /);
    writeFileSync(join(dir, 'event.json'), '{}');
    const again = spawnSync(process.execPath, ['--import', 'tsx', 'local/invoke.ts', 'cognito', join(dir, 'event.json')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', IAM_LOCAL_DIR: dir },
    });
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toBe(`npm run invoke: ${dir}/function-env.json is missing: run npm start first (the function uses its database and IdP)`);
  }, 30_000);
});

describe('npm start run twice in one checkout', () => {
  it('refuses the second start while the first runs, names its PID, and takes over a lock whose process died', async () => {
    const dir = newDir();
    const url = await createTestDatabase();
    // A lock left by a process that no longer exists (kill -9, a crash).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, 'npm-start.lock'), JSON.stringify({ pid: dead, started_at: '2025-01-01T00:00:00.000Z' }));
    const first = await npmStart(dir, { DATABASE_URL: url });
    try {
      expect(first.output()).toContain('took over .local from an npm start that is no longer running');
      const before = snapshot(dir);
      const second = await failedStart(dir, { DATABASE_URL: url });
      expect(failureLine(second)).toMatch(
        new RegExp(`^npm start failed: npm start is already running in this checkout \\(PID ${first.child.pid}, since [^;]+; lock ${dir}/npm-start.lock\\): use that one, or stop it`),
      );
      expect(snapshot(dir)).toEqual(before);
    } finally {
      expect(await first.stop()).toBe(true);
    }
    expect(existsSync(join(dir, 'npm-start.lock'))).toBe(false);
  }, 90_000);
});
