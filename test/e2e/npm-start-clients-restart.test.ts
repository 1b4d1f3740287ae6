/**
 * A restart of `npm start` keeps the dev IdP and Postgres agreeing on OAuth clients: the dev IdP
 * keeps its registered clients (and their registration access tokens) in `.local`, so reconcile
 * finds nothing to repair, the client still signs in and gets its claims, and rotating, changing
 * and deleting it go through R-Auth's RFC 7592 API as before the restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { logLines, npmStart, type StartedStack } from '../support/npm-start.js';
import { freePort } from '../support/free-port.js';

interface Created {
  client_id: string;
  client_secret: string;
}

const stateDir = mkdtempSync(join(tmpdir(), 'iam-npm-start-clients-'));

describe('npm start, restarted with an OAuth client', () => {
  let env: Record<string, string>;
  let started: StartedStack | undefined;
  let client: Created;
  afterAll(async () => {
    await started?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${started!.stack.api_url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${started!.stack.idp.admin_token}`, 'content-type': 'application/json', ...init.headers },
    });
  const tokenFor = async (secret: string) => {
    const response = await fetch(started!.stack.idp.token_endpoint!, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    return response.status;
  };
  /** Reconcile runs once at start (then every minute): its report, once it is out. */
  const reconcileReport = async (stack: StartedStack) => {
    const until = Date.now() + 10_000;
    while (logLines(stack.output(), 'client reconcile finished').length === 0 && logLines(stack.output(), 'client reconcile refused to act').length === 0) {
      if (Date.now() > until) throw new Error(`no reconcile report:\n${stack.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { finished: logLines(stack.output(), 'client reconcile finished'), refused: logLines(stack.output(), 'client reconcile refused to act') };
  };

  it('registers a client of acme at the dev IdP', async () => {
    // The dev IdP's port is fixed across restarts, as npm start's default (4100) is: the issuer
    // and each client's registration_client_uri name it. No grace: any disagreement is repaired.
    env = { EMBEDDED_PG_PORT: String(await freePort()), DEV_IDP_PORT: String(await freePort()), RECONCILE_GRACE_SECONDS: '0' };
    started = await npmStart(stateDir, env);
    const created = await admin('/tenants/acme/clients', { method: 'POST', body: JSON.stringify({ client_name: 'Ledger sync', scope: 'iam', roles: ['viewer'] }) });
    expect(created.status).toBe(201);
    client = (await created.json()) as Created;
    expect(await tokenFor(client.client_secret)).toBe(200);
    expect(await started.stop()).toBe(true);
  }, 90_000);

  it('finds IdP and Postgres agreeing after the restart: reconcile repairs nothing', async () => {
    started = await npmStart(stateDir, env);
    const { finished, refused } = await reconcileReport(started);
    expect(refused).toEqual([]);
    expect(finished).toEqual([expect.objectContaining({ idpClients: 1, rows: 1, orphansDeleted: 0, rowsRemoved: 0, metadataRestored: 0, failed: 0 })]);
  }, 90_000);

  it('lets the client sign in with its secret and get its claims', async () => {
    expect(await tokenFor(client.client_secret)).toBe(200);
    const enriched = await fetch(started!.stack.enrich_api_url, {
      method: 'POST',
      headers: { 'x-api-key': started!.stack.api_key, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: client.client_id }),
    });
    expect(enriched.status).toBe(200);
    expect(await enriched.json()).toMatchObject({ subject: client.client_id, subject_type: 'client', tenant: { slug: 'acme' }, roles: ['viewer'] });
  });

  it('changes, rotates and deletes the client with its registration access token from before the restart', async () => {
    const path = `/tenants/acme/clients/${encodeURIComponent(client.client_id)}`;
    const etag = (await admin(path)).headers.get('etag')!;
    const changed = await admin(path, { method: 'PATCH', headers: { 'if-match': etag }, body: JSON.stringify({ client_name: 'Ledger sync v2' }) });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ client_name: 'Ledger sync v2' });

    const rotated = await admin(`${path}/secret`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    const { client_secret: secret } = (await rotated.json()) as Created;
    expect([await tokenFor(client.client_secret), await tokenFor(secret)]).toEqual([401, 200]);

    expect((await admin(path, { method: 'DELETE' })).status).toBe(204);
    expect(await tokenFor(secret)).toBe(401);
    // Every change went by RFC 7592: the stored token was never refused.
    expect(started!.output()).not.toContain('going through its admin API');
  });
});
