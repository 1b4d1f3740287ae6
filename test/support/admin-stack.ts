/**
 * The admin API as a caller meets it: a fresh test database, the real dev IdP (oidc-provider)
 * issuing tokens for a cast of personas, and every function behind the local HTTP front.
 * Tokens are real client-credentials tokens from the IdP, except the deliberately broken ones.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { createHttpFront } from '../../local/http-front.js';
import { loadRoutes } from '../../local/routes.js';
import { mintAccessToken } from './dev-idp.js';
import { addRole, addTenant, mapSubject, testDatabase } from './policy-fixture.js';
import { BOOTSTRAP_ADMIN, createTestDatabase } from './test-database.js';

export const ENRICH_KEY = 'admin-stack-enrich-key-0123456789abcdefgh';

/** Who calls, from nobody to a platform admin. */
export const PERSONAS = ['none', 'bad', 'expired', 'wrongKey', 'user', 'otherTenantAdmin', 'tenantAdmin', 'platformAdmin'] as const;
export type Persona = (typeof PERSONAS)[number];

export interface AdminStack {
  url: string;
  idp: DevIdp;
  db: Database;
  /** `acme` is the tenant the tenant admin runs; `globex` belongs to the other tenant admin. */
  tenants: { acme: string; globex: string };
  headers(persona: Persona): Record<string, string>;
  call(persona: Persona, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
  /** enrich-token's native call on the same front, with the stack's API key. */
  enrich(subject: string, tenant: string): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

const clients = {
  tenantAdmin: { client_id: 'acme-admin', client_secret: 'acme-admin-secret-0123456789' },
  otherTenantAdmin: { client_id: 'globex-admin', client_secret: 'globex-admin-secret-0123456789' },
  user: { client_id: 'acme-user', client_secret: 'acme-user-secret-0123456789' },
};

/** `env` is merged over the stack's own settings (e.g. `DB_POOL_MAX`, `LOG_LEVEL`). */
export async function startAdminStack(env: Record<string, string> = {}): Promise<AdminStack> {
  const databaseUrl = await createTestDatabase();
  const db = testDatabase(databaseUrl);
  const idp = await startDevIdp({ adminSubject: BOOTSTRAP_ADMIN, extraClients: Object.values(clients) });

  const acme = await addTenant(db, 'acme');
  const globex = await addTenant(db, 'globex');
  await mapSubject(db, acme, clients.tenantAdmin.client_id, [await addRole(db, acme, 'tenant-admin', ['iam:admin'])]);
  await mapSubject(db, globex, clients.otherTenantAdmin.client_id, [await addRole(db, globex, 'tenant-admin', ['iam:admin'])]);
  await mapSubject(db, acme, clients.user.client_id, [await addRole(db, acme, 'viewer', ['invoices:read'])]);

  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    RAUTH_URL: idp.issuer,
    ADMIN_TOKEN_AUDIENCE: idp.audience,
    RAUTH_ADMIN_CLIENT_ID: idp.admin.client_id,
    RAUTH_ADMIN_CLIENT_SECRET: idp.admin.client_secret,
    ENRICH_API_KEYS: ENRICH_KEY,
    RAUTH_REGISTRATION_TOKEN: idp.initialAccessToken,
    RAUTH_ADMIN_API_URL: idp.adminApiUrl,
    CLIENT_TOKEN_KEYS: `test:${randomBytes(32).toString('base64')}`,
    RECONCILE_GRACE_SECONDS: '0',
    LOG_LEVEL: 'error',
    ...env,
  });
  const server: Server = createHttpFront(await loadRoutes({ admin: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const past = Math.floor(Date.now() / 1000) - 3600;
  const strangerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const tokens: Record<Persona, string | undefined> = {
    none: undefined,
    bad: 'not-a-jwt',
    expired: await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, iat: past - 60, exp: past }),
    // A well-formed token claiming the platform admin, signed by a key the IdP never published.
    wrongKey: await new SignJWT({ sub: BOOTSTRAP_ADMIN, iss: idp.issuer, aud: idp.audience })
      .setProtectedHeader({ alg: 'ES256', kid: idp.signingKey.kid, typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(strangerKey),
    user: await idp.clientCredentialsToken(clients.user),
    otherTenantAdmin: await idp.clientCredentialsToken(clients.otherTenantAdmin),
    tenantAdmin: await idp.clientCredentialsToken(clients.tenantAdmin),
    platformAdmin: await idp.clientCredentialsToken(idp.admin),
  };
  const headers = (persona: Persona): Record<string, string> =>
    tokens[persona] === undefined ? {} : { authorization: `Bearer ${tokens[persona]}` };

  return {
    url,
    idp,
    db,
    tenants: { acme, globex },
    headers,
    async call(persona, method, path, body, extra = {}) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers(persona), ...extra },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
    },
    async enrich(subject, tenant) {
      const response = await fetch(`${url}/system/enrich-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': ENRICH_KEY },
        body: JSON.stringify({ subject, tenant }),
      });
      return { status: response.status, json: await response.json() };
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idp.stop();
      const { adminRuntime } = await import('../../lib/wiring/admin.js');
      await adminRuntime().db.end();
      await db.end();
    },
  };
}
