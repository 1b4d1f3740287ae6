/** A malformed policy file is refused with every problem, each at its line and column, before any call to the API. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { main } from '../../../../cli/policy/main.js';
import { parsePolicy, PolicyFileError } from '../../../../cli/policy/policy-file.js';

const problems = (text: string) => {
  try {
    parsePolicy(text, 'p.yaml');
  } catch (error) {
    if (error instanceof PolicyFileError) return error.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
    throw error;
  }
  throw new Error('the file was accepted');
};

const VALID = `version: 1
tenants:
  acme:
    name: Acme
    roles:
      viewer:
        permissions: [invoices:read]
    users:
      alice: [viewer]
`;

describe('reading a policy file', () => {
  it('accepts a valid file', () => {
    expect(parsePolicy(VALID, 'p.yaml')).toEqual({ version: 1, tenants: { acme: { name: 'Acme', roles: { viewer: { permissions: ['invoices:read'] } }, users: { alice: ['viewer'] } } } });
  });

  it('names the line of a YAML syntax error', () => {
    expect(problems(VALID.replace('[viewer]', '[viewer'))).toEqual([expect.stringMatching(/^10:1 YAML: .*/)]);
  });

  it('names the line of a duplicate key', () => {
    expect(problems(VALID.replace('    name: Acme\n', '    name: Acme\n    name: Again\n'))).toEqual(['5:5 YAML: Map keys must be unique']);
  });

  it('names the line of an unknown field, a bad key, a bad value and a missing field, all at once', () => {
    const text = `version: 1
tenants:
  Acme:
    name: Acme
  globex:
    colour: red
    roles:
      "read all":
        permissions: ["invoices read"]
      ok:
        permissions: x
`;
    expect(problems(text)).toEqual([
      '3:3 tenants: key "Acme": must be a tenant slug: 2–63 of a-z, 0-9 and -',
      '5:3 tenants.globex: "name" is required',
      '6:5 tenants.globex: unknown field "colour"',
      '8:7 tenants.globex.roles: key "read all": must be a role name: 1–63 of A-Z a-z 0-9 _ . : -, starting with a letter or digit',
      '9:23 tenants.globex.roles.read all.permissions.0: must be a permission such as invoices:read (letters, digits, _ . : * / -; at most 128)',
      '11:22 tenants.globex.roles.ok.permissions: must be array',
    ]);
  });

  it('names the line of an invisible character in a subject and of a wrong status', () => {
    const text = VALID.replace('    name: Acme\n', '    name: Acme\n    status: paused\n').replace('alice:', '"ali\\u200bce":');
    expect(problems(text)).toEqual([
      '5:13 tenants.acme.status: must be one of "active", "suspended"',
      expect.stringMatching(/^10:7 tenants\.acme\.users: key "ali\u200bce": must be the IdP's `sub`/),
    ]);
  });

  it('names the line of a role a mapping or a client names that the tenant does not define, and of a client name used twice', () => {
    const text = `${VALID.replace('[viewer]', '[viewer, ghost]')}    clients:
      - client_name: Exporter
        roles: [phantom]
      - client_name: Exporter
`;
    expect(problems(text)).toEqual([
      '9:23 tenants.acme.users.alice.1: role "ghost" is not in tenants.acme.roles',
      '12:17 tenants.acme.clients.0.roles.0: role "phantom" is not in tenants.acme.roles',
      '13:9 tenants.acme.clients.1: two clients without client_id are named "Exporter"; give each its client_id or another name',
    ]);
  });

  it('refuses a file without its version, or an empty one', () => {
    expect(problems('tenants: {}\n')).toEqual(['1:1 the file: "version" is required']);
    expect(problems('')).toEqual(['1:1 the file: must be object']);
  });
});

describe('plan and apply with a malformed file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'h2-policy-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['plan', 'apply'])('%s reports the problems with the file name and line, and exits 1 without calling the API', async (command) => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, VALID.replace('invoices:read', 'invoices read'));
    let out = '';
    let err = '';
    // Port 9 (discard) on loopback: nothing listens, so any call would fail with another message.
    const code = await main([command, path, '--api', 'http://127.0.0.1:9', '--token', 't', '--yes'], { out: (t) => (out += t), err: (t) => (err += t), confirm: undefined });
    expect({ code, out }).toEqual({ code: 1, out: '' });
    expect(err).toBe(
      `iam-policy: 1 problem in ${path}:\n${path}:7:23: tenants.acme.roles.viewer.permissions.0: must be a permission such as invoices:read (letters, digits, _ . : * / -; at most 128)\n`,
    );
  });
});
