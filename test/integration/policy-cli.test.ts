/**
 * `iam-policy` against a real admin API (the functions behind the local front, a real
 * PostgreSQL, the real dev IdP): export → plan → edit → plan → apply → enrich-token, a second
 * apply doing nothing, a run stopped half-way by a concurrent edit and finished by a re-run,
 * a tenant admin refused before any change, and client secrets only in --secrets-out.
 * Most runs call the CLI's main() in-process (stdout, stderr and the exit code it returns);
 * the bin itself runs as a process where a terminal matters.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { main } from '../../cli/policy/main.js';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
import { REPO_ROOT } from '../support/npm-start.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('iam-policy against the admin API', () => {
  let stack: AdminStack;
  let dir: string;
  const outputs: string[] = [];
  const token = (persona: 'platformAdmin' | 'tenantAdmin') => stack.headers(persona).authorization!.slice('Bearer '.length);
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => stack.call('platformAdmin', method, path, body, headers);

  async function cli(args: string[], options: { persona?: 'platformAdmin' | 'tenantAdmin'; confirm?: (q: string) => Promise<boolean> } = {}): Promise<Run> {
    let out = '';
    let err = '';
    const code = await main([...args, '--api', stack.url, '--token', token(options.persona ?? 'platformAdmin')], {
      out: (text) => (out += text),
      err: (text) => (err += text),
      confirm: options.confirm,
    });
    outputs.push(out, err);
    return { code, out, err };
  }

  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : stringify(content));
    return path;
  };

  const enrich = (subject: string, tenant: string) => stack.enrich(subject, tenant);

  /** The audit trail's length: every write adds one entry, so an unchanged length means no write. */
  const auditLength = async () => (await stack.db.query('test.audit_count', "SELECT count(*)::int AS n FROM audit_log WHERE result = 'success'", []))[0]!.n as number;
  /** Requests of acme's admin that authorization refused (each audited as `denied`). */
  const acmeAdminDenials = async () =>
    Number((await stack.db.query<{ n: string }>('test.denied', "SELECT coalesce(sum(count), 0)::text AS n FROM audit_log WHERE actor = 'acme-admin' AND result = 'denied'", []))[0]!.n);

  beforeAll(async () => {
    stack = await startAdminStack();
    dir = mkdtempSync(join(tmpdir(), 'h2-policy-cli-'));
    expect((await admin('PUT', '/tenants/acme/users/carol', { roles: ['viewer'] })).status).toBe(201);
    expect((await admin('PUT', '/tenants/acme/users/dave', { roles: ['viewer'] })).status).toBe(201);
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('export, plan, edit, apply', () => {
    let exported: string;

    it('exports every tenant as sorted YAML with the schema line first, and plans no change for it (exit 0)', async () => {
      const run = await cli(['export']);
      expect(run).toMatchObject({ code: 0, err: '' });
      exported = run.out;
      expect(exported.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schemas\/policy-file\.schema\.json$/);
      const policy = parse(exported);
      expect(Object.keys(policy.tenants)).toEqual(['acme', 'globex', 'platform']);
      expect(policy.tenants.acme).toMatchObject({
        name: 'acme',
        status: 'active',
        roles: { 'tenant-admin': { description: '', permissions: ['iam:admin'] }, viewer: { description: '', permissions: ['invoices:read'] } },
        users: { 'acme-admin': ['tenant-admin'], 'acme-user': ['viewer'], carol: ['viewer'], dave: ['viewer'] },
        clients: [],
      });
      // The same state exports the same bytes.
      expect((await cli(['export'])).out).toBe(exported);
      const plan = await cli(['plan', file('exported.yaml', exported), '--prune']);
      expect(plan).toMatchObject({ code: 0, out: 'No changes: the API holds what the file says.\n' });
    });

    it('plans exactly an added role, a changed mapping and, with --prune, a removed one (exit 2), and applies them', async () => {
      const policy = parse(exported);
      policy.tenants.acme.roles.auditor = { description: 'Reads the audit trail.', permissions: ['audit:read', 'invoices:read'] };
      policy.tenants.acme.users.dave = ['auditor', 'viewer'];
      delete policy.tenants.acme.users.carol;
      const edited = file('edited.yaml', policy);

      const withoutPrune = await cli(['plan', edited]);
      expect(withoutPrune.code).toBe(2);
      expect(withoutPrune.out).toContain('Not in the file, kept (apply --prune deletes them): user acme/carol');

      const plan = await cli(['plan', edited, '--prune']);
      expect(plan.code).toBe(2);
      expect(plan.out).toBe(
        [
          '+ role acme/auditor',
          '    description: "Reads the audit trail."',
          '    permissions: audit:read, invoices:read',
          '~ user acme/dave',
          '    roles: + auditor',
          '- user acme/carol',
          '',
          'Plan: 1 to create, 1 to update, 1 to delete.',
          '',
        ].join('\n'),
      );

      const apply = await cli(['apply', edited, '--prune', '--yes']);
      expect(apply.code).toBe(0);
      expect(apply.out).toContain('+ role acme/auditor: created\n~ user acme/dave: updated\n- user acme/carol: deleted\nApplied 3 changes: 1 created, 1 updated, 1 deleted.\n');

      expect(await enrich('dave', 'acme')).toMatchObject({ status: 200, json: { roles: ['auditor', 'viewer'], permissions: ['audit:read', 'invoices:read'] } });
      expect((await enrich('carol', 'acme')).status).toBe(404);

      const writes = await auditLength();
      const again = await cli(['apply', edited, '--prune', '--yes']);
      expect(again).toMatchObject({ code: 0, out: 'No changes: the API holds what the file says.\n' });
      expect(await auditLength()).toBe(writes);
    });
  });

  it('stops at a change someone else made since the plan (412), and a re-run finishes without doing anything twice', async () => {
    const policy = parse((await cli(['export', '--tenant', 'globex'])).out);
    policy.tenants.globex.roles.reporter = { description: 'Reads reports.', permissions: ['reports:read'] };
    policy.tenants.globex.roles['tenant-admin'].description = 'Administers globex.';
    policy.tenants.globex.users.erin = ['reporter'];
    const path = file('globex.yaml', policy);

    // The plan has read the ETags when confirmation is asked: an edit made now is the concurrent one.
    const first = await cli(['apply', path], {
      confirm: async () => {
        const etag = (await admin('GET', '/tenants/globex/roles/tenant-admin')).headers.get('etag')!;
        expect((await admin('PATCH', '/tenants/globex/roles/tenant-admin', { description: 'Edited meanwhile.' }, { 'if-match': etag })).status).toBe(200);
        return true;
      },
    });
    expect(first.code).toBe(1);
    expect(first.out).toContain('+ role globex/reporter: created\n~ role globex/tenant-admin: FAILED: 412 Precondition Failed');
    expect(first.out).toContain('Stopped after 1 of 3 changes. Re-run apply to finish');
    expect((await admin('GET', '/tenants/globex/users/erin')).status).toBe(404);

    const second = await cli(['apply', path, '--yes']);
    expect(second.code).toBe(0);
    expect(second.out).toContain('~ role globex/tenant-admin\n    description: "Edited meanwhile." → "Administers globex."');
    expect(second.out).not.toContain('+ role globex/reporter');
    expect(second.out).toContain('Applied 2 changes: 1 created, 1 updated, 0 deleted.');

    const creates = await stack.db.query('test.audit_creates', "SELECT count(*)::int AS n FROM audit_log WHERE action = 'role.create' AND target LIKE '%reporter%'", []);
    expect(creates[0]!.n).toBe(1);
    expect(await enrich('erin', 'globex')).toMatchObject({ status: 200, json: { roles: ['reporter'], permissions: ['reports:read'] } });
    expect((await cli(['plan', path])).code).toBe(0);
  });

  it('creates a tenant with its roles, mappings and client in that order, and prunes them again in reverse', async () => {
    const secretsPath = join(dir, 'initech-secrets.json');
    const create = file('initech.yaml', {
      version: 1,
      tenants: {
        initech: {
          name: 'Initech',
          roles: { reader: { description: 'Reads TPS reports.', permissions: ['tps:read'] } },
          users: { peter: ['reader'] },
          clients: [{ client_name: 'TPS exporter', roles: ['reader'] }],
        },
      },
    });
    const run = await cli(['apply', create, '--yes', '--secrets-out', secretsPath]);
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(run.out.split('\n').filter((line) => line.includes(': created'))).toEqual([
      '+ tenant initech: created',
      '+ role initech/reader: created',
      '+ user initech/peter: created',
      expect.stringMatching(/^\+ client initech\/TPS exporter: created as \S+, secret written to /),
    ]);
    expect(await enrich('peter', 'initech')).toMatchObject({ status: 200, json: { roles: ['reader'], permissions: ['tps:read'] } });

    const empty = file('initech-empty.yaml', { version: 1, tenants: { initech: { name: 'Initech', roles: {}, users: {}, clients: [] } } });
    const prune = await cli(['apply', empty, '--yes', '--prune']);
    expect(prune).toMatchObject({ code: 0, err: '' });
    expect(prune.out.split('\n').filter((line) => line.endsWith(': deleted'))).toEqual([
      expect.stringMatching(/^- client initech\/\S+: deleted$/),
      '- user initech/peter: deleted',
      '- role initech/reader: deleted',
    ]);
    expect((await admin('GET', '/tenants/initech/clients')).json.items).toEqual([]);
    expect((await enrich('peter', 'initech')).status).toBe(404);
  });

  it('creates again a resource deleted since an earlier apply created it, though the same Idempotency-Key is still stored', async () => {
    const policy = parse((await cli(['export', '--tenant', 'acme'])).out);
    policy.tenants.acme.roles.ephemeral = { description: '', permissions: ['x:read'] };
    const path = file('ephemeral.yaml', policy);
    expect((await cli(['apply', path, '--yes'])).out).toContain('+ role acme/ephemeral: created');
    expect((await admin('DELETE', '/tenants/acme/roles/ephemeral')).status).toBe(204);
    // The same change, the same key: the API replays the first answer; apply sees the role is gone and creates it.
    expect((await cli(['apply', path, '--yes'])).out).toContain('+ role acme/ephemeral: created');
    expect((await admin('GET', '/tenants/acme/roles/ephemeral')).status).toBe(200);
    const creates = await stack.db.query('test.audit_creates', "SELECT count(*)::int AS n FROM audit_log WHERE action = 'role.create' AND target LIKE '%ephemeral%'", []);
    expect(creates[0]!.n).toBe(2);
    // Two keys answered for it: the change's own (replayed the second time), then one derived from that replay.
    const keys = await stack.db.query('test.idempotency', "SELECT key FROM idempotency_keys WHERE response->'body'->>'name' = 'ephemeral' ORDER BY created_at", []);
    expect(keys.map((k) => k.key)).toEqual([expect.stringMatching(/^iam-policy-[\w-]{32}$/), expect.stringMatching(/^iam-policy-[\w-]{29}-[\w-]{16}$/)]);
    expect((await cli(['plan', path])).code).toBe(0);
  });

  describe("a tenant admin's token", () => {
    it('exports its own tenants without --tenant, and cannot name another, leaving no denied audit row', async () => {
      const denials = await acmeAdminDenials();
      const unnamed = await cli(['export'], { persona: 'tenantAdmin' });
      expect(unnamed).toMatchObject({ code: 0, err: '' });
      expect(Object.keys(parse(unnamed.out).tenants)).toEqual(['acme']);
      const own = await cli(['export', '--tenant', 'acme'], { persona: 'tenantAdmin' });
      expect(own).toMatchObject({ code: 0, out: unnamed.out });
      const other = await cli(['export', '--tenant', 'globex'], { persona: 'tenantAdmin' });
      expect(other).toMatchObject({ code: 1, out: '' });
      expect(other.err).toContain("tenant globex: not this token's tenant (acme-admin administers acme)");
      expect(await acmeAdminDenials()).toBe(denials);
      // The count can move: the same request through the API itself is a denied row.
      expect((await stack.call('tenantAdmin', 'GET', '/tenants/globex')).status).toBe(404);
      expect(await acmeAdminDenials()).toBe(denials + 1);
    });

    it('is refused before any change when the file touches another tenant, or a tenant record', async () => {
      const policy = parse((await cli(['export', '--tenant', 'acme', '--tenant', 'globex'])).out);
      policy.tenants.acme.roles.intruder = { permissions: ['x:read'] };
      policy.tenants.globex.users.mallory = ['tenant-admin'];
      const writes = await auditLength();
      const denials = await acmeAdminDenials();
      const run = await cli(['apply', file('reach.yaml', policy), '--yes'], { persona: 'tenantAdmin' });
      expect(run.code).toBe(1);
      expect(run.err).toContain('refused before any change');
      expect(run.err).toContain("tenant globex: not this token's tenant");
      expect(await auditLength()).toBe(writes);
      expect(await acmeAdminDenials()).toBe(denials);
      expect((await admin('GET', '/tenants/acme/roles/intruder')).status).toBe(404);
      expect((await admin('GET', '/tenants/globex/users/mallory')).status).toBe(404);

      const own = parse((await cli(['export', '--tenant', 'acme'], { persona: 'tenantAdmin' })).out);
      own.tenants.acme.name = 'Acme renamed';
      own.tenants.acme.roles.intruder = { permissions: ['x:read'] };
      const rename = await cli(['apply', file('rename.yaml', own), '--yes'], { persona: 'tenantAdmin' });
      expect(rename.code).toBe(1);
      expect(rename.err).toContain('tenant acme: renaming, suspending or resuming a tenant needs a platform admin');
      expect(await auditLength()).toBe(writes);

      own.tenants.acme.name = 'acme';
      const allowed = await cli(['apply', file('own.yaml', own), '--yes'], { persona: 'tenantAdmin' });
      expect(allowed).toMatchObject({ code: 0 });
      expect(allowed.out).toContain('+ role acme/intruder: created');
      expect(await acmeAdminDenials()).toBe(denials);
    });
  });

  describe('OAuth clients', () => {
    it('refuses a client create without --secrets-out, and with it writes the secret there (0600) and nowhere else', async () => {
      const policy = parse((await cli(['export', '--tenant', 'globex'])).out);
      policy.tenants.globex.roles.exporter = { permissions: ['reports:read'] };
      policy.tenants.globex.clients.push({ client_name: 'Report exporter', scope: 'iam', roles: ['exporter'] });
      const path = file('client.yaml', policy);
      const writes = await auditLength();

      const refused = await cli(['apply', path, '--yes']);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('--secrets-out');
      expect(await auditLength()).toBe(writes);

      const secretsPath = join(dir, 'secrets.json');
      const run = await cli(['apply', path, '--yes', '--secrets-out', secretsPath]);
      expect(run).toMatchObject({ code: 0, err: '', out: expect.stringContaining('Applied 2 changes: 2 created, 0 updated, 0 deleted.') });
      const [written] = JSON.parse(readFileSync(secretsPath, 'utf8')).clients;
      expect(written).toEqual({ tenant: 'globex', client_id: expect.any(String), client_name: 'Report exporter', client_secret: expect.any(String) });
      expect(statSync(secretsPath).mode & 0o777).toBe(0o600);
      expect(run.out).toContain(`+ client globex/Report exporter: created as ${written.client_id}, secret written to ${secretsPath}`);
      expect(outputs.join('\n')).not.toContain(written.client_secret);

      // The secret works at the IdP, and the client's token enriches with the file's roles.
      const tokenAnswer = await fetch(stack.idp.tokenEndpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${written.client_id}:${written.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(tokenAnswer.status).toBe(200);
      expect(await enrich(written.client_id, 'globex')).toMatchObject({ status: 200, json: { subject_type: 'client', roles: ['exporter'] } });

      // Found again by its name: a second apply is a no-op; its export has the client without a secret.
      expect((await cli(['apply', path, '--yes', '--secrets-out', secretsPath])).out).toBe('No changes: the API holds what the file says.\n');
      const exported = await cli(['export', '--tenant', 'globex']);
      expect(parse(exported.out).tenants.globex.clients).toEqual([
        { client_id: written.client_id, client_name: 'Report exporter', grant_types: ['client_credentials'], redirect_uris: [], scope: 'iam', token_endpoint_auth_method: 'client_secret_basic', roles: ['exporter'] },
      ]);

      // A metadata change is a PATCH with If-Match.
      const changed = parse(exported.out);
      changed.tenants.globex.clients[0].scope = '';
      const update = await cli(['apply', file('client-2.yaml', changed), '--yes']);
      expect(update).toMatchObject({ code: 0, err: '' });
      expect(update.out).toBe(
        `~ client globex/${written.client_id}\n    scope: "iam" → ""\n\nPlan: 0 to create, 1 to update, 0 to delete.\n` +
          `~ client globex/${written.client_id}: updated\nApplied 1 change: 0 created, 1 updated, 0 deleted.\n`,
      );
    });
  });

  it('shows the API problem with the change that caused it', async () => {
    const policy = parse((await cli(['export', '--tenant', 'acme'])).out);
    // Another tenant's client id mapped as a user: the API refuses it (409 subject-is-client).
    const client = (await admin('POST', '/tenants/globex/clients', { client_name: 'Not a user' })).json;
    policy.tenants.acme.users[client.client_id] = ['viewer'];
    const run = await cli(['apply', file('client-as-user.yaml', policy), '--yes']);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(new RegExp(`\\+ user acme/${client.client_id}: FAILED: 409 [^\\n]+`));
  });

  describe('the bin as a process', () => {
    // Asynchronously: the API answering it runs in this process.
    async function bin(args: string[], input: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/iam-policy.js'), ...args, '--api', stack.url, '--token', token('platformAdmin')], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.stdin.end(input);
      const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
      outputs.push(stdout, stderr);
      return { status, stdout, stderr };
    }

    it('refuses to apply without --yes when there is no terminal to ask on (exit 1), and plans with exit code 2', async () => {
      const policy = parse((await cli(['export', '--tenant', 'acme'])).out);
      policy.tenants.acme.roles.unconfirmed = { permissions: ['x:read'] };
      const path = file('unconfirmed.yaml', policy);
      const plan = await bin(['plan', 'unconfirmed.yaml'], '');
      expect({ status: plan.status, stdout: plan.stdout }).toEqual({ status: 2, stdout: expect.stringContaining('+ role acme/unconfirmed') });
      const apply = await bin(['apply', path], 'yes\n');
      expect(apply.status).toBe(1);
      expect(apply.stderr).toContain('no terminal to confirm on; pass --yes');
      expect((await admin('GET', '/tenants/acme/roles/unconfirmed')).status).toBe(404);
    });
  });

  it('printed no token in any run above', () => {
    expect(outputs.length).toBeGreaterThan(40);
    const all = outputs.join('\n');
    for (const persona of ['platformAdmin', 'tenantAdmin'] as const) expect(all).not.toContain(token(persona));
  });
});
