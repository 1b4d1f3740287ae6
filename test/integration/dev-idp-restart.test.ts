/**
 * The dev IdP keeps its registered clients and their registration access tokens in a file, so a
 * restart (of `npm start`) leaves it agreeing with the Postgres rows that name those clients.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { freePort } from '../support/free-port.js';

interface Registered {
  client_id: string;
  client_secret: string;
  registration_access_token: string;
}

const dir = mkdtempSync(join(tmpdir(), 'iam-dev-idp-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dev IdP with a store file', () => {
  const running: DevIdp[] = [];
  /** The saved values `npm start` passes again on every start (.local/state.json). */
  let saved: { adminSecret?: string; initialAccessToken?: string; signingKey?: DevIdp['signingKey'] } = {};
  afterEach(async () => {
    for (const idp of running.splice(0)) await idp.stop();
  });

  async function start(storeFile: string): Promise<DevIdp> {
    const idp = await startDevIdp({ adminSubject: 'restart-admin', storeFile, ...saved });
    saved = { adminSecret: idp.admin.client_secret, initialAccessToken: idp.initialAccessToken, signingKey: idp.signingKey };
    running.push(idp);
    return idp;
  }
  const restart = async (idp: DevIdp, storeFile: string) => {
    await idp.stop();
    running.splice(running.indexOf(idp), 1);
    return start(storeFile);
  };

  const register = async (idp: DevIdp, clientName: string): Promise<Registered> => {
    const response = await fetch(idp.registrationEndpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${idp.initialAccessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: clientName, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'iam', software_id: 'restart-test' }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as Registered;
  };
  // The URI names the issuer's port: rebuilt here, since each start takes a free port.
  const rfc7592 = (idp: DevIdp, client: Registered, token: string, init: RequestInit = {}) =>
    fetch(`${idp.registrationEndpoint}/${client.client_id}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
  const tokenFor = (idp: DevIdp, client_id: string, client_secret: string) =>
    idp.clientCredentialsToken({ client_id, client_secret }).then(
      () => 'token',
      () => 'refused',
    );
  const listed = async (idp: DevIdp) => {
    const response = await fetch(`${idp.adminApiUrl}/clients`, { headers: { authorization: `Bearer ${idp.initialAccessToken}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as Array<{ client_id: string; client_name?: string }>).map((c) => [c.client_id, c.client_name]);
  };

  it('keeps a registered client across a restart: it authenticates, its registration access token manages it, the admin API lists it', async () => {
    const file = join(dir, 'keeps', 'dev-idp.json');
    const first = await start(file);
    const client = await register(first, 'reports');

    const second = await restart(first, file);
    expect(await tokenFor(second, client.client_id, client.client_secret)).toBe('token');
    expect(await listed(second)).toEqual([[client.client_id, 'reports']]);
    const read = await rfc7592(second, client, client.registration_access_token);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ client_id: client.client_id, client_name: 'reports', software_id: 'restart-test' });

    const updated = await rfc7592(second, client, client.registration_access_token, {
      method: 'PUT',
      body: JSON.stringify({ client_id: client.client_id, client_name: 'reports v2', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'iam', software_id: 'restart-test' }),
    });
    expect(updated.status).toBe(200);
    const { registration_access_token: rotated } = (await updated.json()) as Registered;
    expect(rotated).not.toBe(client.registration_access_token);

    // The update and the new registration access token are what the next start finds.
    const third = await restart(second, file);
    expect(await listed(third)).toEqual([[client.client_id, 'reports v2']]);
    expect((await rfc7592(third, client, client.registration_access_token)).status).toBe(401);
    expect((await rfc7592(third, client, rotated)).status).toBe(200);
    expect(await tokenFor(third, client.client_id, client.client_secret)).toBe('token');
  });

  it('keeps a secret rotation, an admin replacement (which kills the registration access token) and a deletion across a restart', async () => {
    const file = join(dir, 'changes', 'dev-idp.json');
    const first = await start(file);
    const [rotated, replaced, deleted] = [await register(first, 'rotated'), await register(first, 'replaced'), await register(first, 'deleted')];
    const metadata = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'iam', software_id: 'restart-test' };

    const rotation = await rfc7592(first, rotated, rotated.registration_access_token, {
      method: 'PUT',
      body: JSON.stringify({ client_id: rotated.client_id, client_name: 'rotated', ...metadata, rotate_client_secret: true }),
    });
    expect(rotation.status).toBe(200);
    const { client_secret: newSecret } = (await rotation.json()) as Registered;
    const admin = { authorization: `Bearer ${first.initialAccessToken}`, 'content-type': 'application/json' };
    const at = (client: Registered) => `${first.adminApiUrl}/clients/${client.client_id}`;
    expect((await fetch(at(replaced), { method: 'PUT', headers: admin, body: JSON.stringify({ client_name: 'replaced v2', ...metadata }) })).status).toBe(200);
    expect((await fetch(at(deleted), { method: 'DELETE', headers: admin })).status).toBe(204);

    const second = await restart(first, file);
    expect(await tokenFor(second, rotated.client_id, rotated.client_secret)).toBe('refused');
    expect(await tokenFor(second, rotated.client_id, newSecret)).toBe('token');
    expect((await rfc7592(second, replaced, replaced.registration_access_token)).status).toBe(401);
    expect(await tokenFor(second, replaced.client_id, replaced.client_secret)).toBe('token');
    expect(await tokenFor(second, deleted.client_id, deleted.client_secret)).toBe('refused');
    expect((await listed(second)).sort()).toEqual(
      [
        [rotated.client_id, 'rotated'],
        [replaced.client_id, 'replaced v2'],
      ].sort(),
    );
  });

  it('writes the file for its owner only and keeps no issued access token in it', async () => {
    const file = join(dir, 'mode', 'dev-idp.json');
    const idp = await start(file);
    const client = await register(idp, 'private');
    await idp.clientCredentialsToken(client);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; entries: Record<string, unknown> };
    expect(saved.version).toBe(1);
    expect(Object.keys(saved.entries).map((key) => key.split(':')[0]).sort()).toEqual(['Client', 'RegistrationAccessToken']);
  });

  it('refuses to start from a store file it cannot read, naming the file, and leaves the port free', async () => {
    const file = join(dir, 'broken.json');
    const port = await freePort();
    writeFileSync(file, '{"entries":');
    await expect(startDevIdp({ adminSubject: 'x', port, storeFile: file })).rejects.toThrow(`dev IdP cannot read its clients from ${file}`);
    writeFileSync(file, '{"version":99,"entries":{}}');
    await expect(startDevIdp({ adminSubject: 'x', port, storeFile: file })).rejects.toThrow(/not a version 1 dev IdP store/);
    running.push(await startDevIdp({ adminSubject: 'x', port }));
  });

  it('forgets clients on a restart without a store file, as before', async () => {
    const idp = await startDevIdp({ adminSubject: 'memory' });
    running.push(idp);
    const client = await register(idp, 'ephemeral');
    const again = await startDevIdp({ adminSubject: 'memory', initialAccessToken: idp.initialAccessToken });
    running.push(again);
    expect(await tokenFor(again, client.client_id, client.client_secret)).toBe('refused');
  });
});
