import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';

/**
 * `npm start` as a user runs it, on its embedded default (no DATABASE_URL): a real embedded
 * PostgreSQL, migrations, the demo policy, the HTTP front. Then Ctrl-C, and a second start.
 */
const stateDir = mkdtempSync(join(tmpdir(), 'iam-npm-start-'));
const pgPort = 56000 + Math.floor(Math.random() * 2000);

interface Started {
  child: ChildProcess;
  output: () => string;
  stack: {
    api_url: string;
    enrich_url: string;
    api_key: string;
    demo: { subject: string; tenant: string };
    curl: string;
    idp: { issuer: string; token_endpoint: string; admin: { client_id: string; client_secret: string }; admin_token: string };
  };
}

async function npmStart(): Promise<Started> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    PORT: '0',
    IAM_LOCAL_DIR: stateDir,
    EMBEDDED_PG_PORT: String(pgPort),
    DEV_IDP_PORT: '0',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 60_000);
    child.stdout!.on('data', () => output.includes('iam-service is running') && (clearTimeout(timer), resolve()));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`npm start exited ${code}:\n${output}`))));
  });
  const stack = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8'));
  return { child, output: () => output, stack };
}

/** Ctrl-C. A program stopped by SIGINT exits 0 or, by shell convention, 130 (128 + SIGINT). */
async function stop(child: ChildProcess): Promise<boolean> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  return [0, 130].includes((await exited) ?? -1);
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

const enrich = (stack: Started['stack'], body: unknown, headers: Record<string, string> = { 'x-api-key': stack.api_key }) =>
  fetch(stack.enrich_url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('npm start', () => {
  let first: Started | undefined;
  afterAll(async () => {
    if (first?.child.exitCode === null) await stop(first.child);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves enrich-token for the demo subject on an embedded PostgreSQL', async () => {
    first = await npmStart();
    const { stack } = first;
    expect(stack.enrich_url).toBe(`${stack.api_url}/system/enrich-token`);
    expect(first.output()).toContain(stack.curl);
    const response = await enrich(stack, { subject: stack.demo.subject, tenant: stack.demo.tenant });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      subject: 'user-alice',
      subject_type: 'user',
      tenant: { slug: 'acme' },
      roles: ['billing-admin', 'viewer'],
      permissions: ['invoices:read', 'invoices:write', 'payments:read', 'reports:read'],
    });
  }, 90_000);

  it('refuses a call without a key', async () => {
    const response = await enrich(first!.stack, { subject: 'user-alice' }, {});
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves the admin API to the printed admin token and to a fresh client-credentials token', async () => {
    const { stack } = first!;
    const listed = await fetch(`${stack.api_url}/tenants`, { headers: { authorization: `Bearer ${stack.idp.admin_token}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: Array<{ slug: string }> }).items.map((t) => t.slug)).toEqual(['acme', 'globex', 'platform']);
    const grant = await fetch(stack.idp.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${stack.idp.admin.client_id}:${stack.idp.admin.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await grant.json()) as { access_token: string };
    const role = await fetch(`${stack.api_url}/tenants/acme/roles/viewer`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await role.json()).toMatchObject({ tenant: 'acme', name: 'viewer', permissions: ['invoices:read', 'reports:read'] });
  });

  it('answers an unknown route with a problem', async () => {
    const response = await fetch(`${first!.stack.api_url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('stops everything it started on Ctrl-C', async () => {
    expect(await portOpen(pgPort)).toBe(true);
    expect(await stop(first!.child)).toBe(true);
    expect(await portOpen(pgPort)).toBe(false);
    expect(await portOpen(Number(new URL(first!.stack.api_url).port))).toBe(false);
  }, 30_000);

  it('reuses its data and API key on a second start', async () => {
    const second = await npmStart();
    try {
      expect(second.stack.api_key).toBe(first!.stack.api_key);
      expect(second.output()).toContain('"count":0');
      expect((await enrich(second.stack, { subject: 'user-alice' })).status).toBe(200);
    } finally {
      expect(await stop(second.child)).toBe(true);
    }
  }, 90_000);
});
