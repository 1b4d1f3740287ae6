/**
 * `npm run rollback` where AWS cannot answer, spawned for real: its one-line cause reaches the
 * terminal. No request leaves the machine: every AWS endpoint is a closed loopback port, and the
 * instance-metadata lookup is off.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const root = new URL('../..', import.meta.url).pathname;
const CLOSED = 'http://127.0.0.1:1';

let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'iam-rollback-home-'));
  writeFileSync(join(home, 'credentials'), '');
  writeFileSync(join(home, 'config'), '');
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function rollback(args: string[], aws: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  Object.assign(env, {
    HOME: home,
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_CLOUDFORMATION: CLOSED,
    AWS_ENDPOINT_URL_S3: CLOSED,
    AWS_ENDPOINT_URL_STS: CLOSED,
    AWS_EMF_ENVIRONMENT: 'Local',
    NODE_OPTIONS: '',
    ...aws,
  });
  delete env.DATABASE_URL;
  delete env.DATABASE_SECRET_ID;
  const started = performance.now();
  const child = spawn('npm', ['run', '--silent', 'rollback', '--', '--stage', 'prod', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  return { code, output, seconds: (performance.now() - started) / 1000 };
}

describe('npm run rollback, when AWS cannot answer', () => {
  it.each([[[]], [['--timestamp', '1795165921000']]])('says in one line that there are no AWS credentials, before serverless runs (%j)', async (args) => {
    const { code, output, seconds } = await rollback(args);
    expect(code).toBe(1);
    expect(output).toMatch(/^Rollback check failed, nothing rolled back: no AWS credentials \(.+\): set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/m);
    expect(output).not.toContain('osls'); // serverless's banner: it was never started
    expect(seconds).toBeLessThan(15);
  });

  it("passes on serverless deploy list's own error, which serverless prints on the stdout rollback reads", async () => {
    const { code, output } = await rollback([], { AWS_ACCESS_KEY_ID: 'AKIDSTANDIN', AWS_SECRET_ACCESS_KEY: 'stand-in' });
    expect(code).toBe(1);
    expect(output).toContain('Rollback check failed, nothing rolled back: serverless deploy list failed (exit 1):');
    expect(output).toContain('ECONNREFUSED 127.0.0.1:1');
  });
});
