/**
 * openapi.yaml against the real service: the document lists exactly the routes served, and a
 * realistic scenario through every route (real Postgres, real dev-IdP tokens, the local HTTP
 * front) gets only responses the document describes — status, content type, headers, body.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { type AdminStack, ENRICH_KEY, type Persona, startAdminStack } from '../support/admin-stack.js';
import { mapSubject } from '../support/policy-fixture.js';
import { type Exchange, HTTP_METHODS, OpenApiContract } from '../support/openapi.js';

/** Every route the service serves: the admin route table plus enrich-token and the IdP health probe. */
const SERVED = [
  ...Object.entries(ADMIN_ROUTES).map(([operationId, r]) => ({ operationId, method: r.method, path: r.path, access: r.access as string | undefined })),
  { operationId: 'enrichToken', method: 'POST', path: '/system/enrich-token', access: undefined },
  { operationId: 'idpHealth', method: 'GET', path: '/system/idp-health', access: undefined },
];

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** JSON-encoded unless a string (sent as it is). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Who calls: an admin persona (bearer token), or enrich-token's gateway (X-API-Key, or none). */
type Caller = Persona | { apiKey?: string };

describe('openapi.yaml', () => {
  const contract = new OpenApiContract();
  let stack: AdminStack;

  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.stop());

  /** Calls an operation by its operationId, at the path the document gives it, and checks the answer. */
  async function call(operationId: string, caller: Caller, request: Call = {}): Promise<Answer> {
    const { method, path: template } = contract.operation(operationId);
    const params = request.params ?? {};
    const query = request.query ?? {};
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (params[name] === undefined) throw new Error(`${operationId}: no value for {${name}}`);
      return encodeURIComponent(params[name]);
    });
    const search = new URLSearchParams(query).toString();
    const auth = typeof caller === 'string' ? stack.headers(caller) : caller.apiKey === undefined ? {} : { 'x-api-key': caller.apiKey };
    const headers = {
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...auth,
      ...request.headers,
    };
    const response = await fetch(`${stack.url}${path}${search ? `?${search}` : ''}`, {
      method,
      headers,
      body: request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
    });
    const text = await response.text();
    const exchange: Exchange = {
      operationId,
      method,
      path: `${path}${search ? `?${search}` : ''}`,
      request: { headers, query, params, body: request.body },
      status: response.status,
      headers: response.headers,
      text,
    };
    contract.check(exchange);
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  /** The scenario's own expectation, with enough context to see what happened. */
  function expectStatus(answer: Answer, status: number): void {
    if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text.slice(0, 500)}`);
  }

  const admin = 'platformAdmin' as const;

  describe('as a document', () => {
    it('names every route the service serves with its method, operation id and access, and no other', () => {
      const documented = contract.operations().map((o) => ({
        operationId: o.operationId,
        method: o.method,
        path: o.path,
        access: o.operation['x-access'] as string | undefined,
      }));
      const key = (o: { method: string; path: string }) => `${o.method} ${o.path}`;
      expect(documented.map(key).sort()).toEqual(SERVED.map(key).sort());
      expect(documented.sort((a, b) => a.operationId.localeCompare(b.operationId))).toEqual(
        SERVED.sort((a, b) => a.operationId.localeCompare(b.operationId)),
      );
    });

    it('is OpenAPI 3.1 with JSON Schema 2020-12, and every $ref points at something', () => {
      expect(contract.doc.openapi).toMatch(/^3\.1\.\d+$/);
      expect(contract.doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(contract.danglingRefs()).toEqual([]);
    });

    it('compiles every schema under ajv strict mode', () => {
      expect(() => contract.compileAllSchemas()).not.toThrow();
    });

    it('refuses unknown fields in every request body and response object', () => {
      const open: string[] = [];
      for (const [name, schema] of Object.entries(contract.doc.components.schemas) as [string, Record<string, unknown>][]) {
        if (schema.type === 'object' && schema.additionalProperties !== false) open.push(name);
      }
      expect(open).toEqual([]);
      for (const operation of contract.operations()) {
        if (operation.operation.requestBody === undefined) continue;
        expect({ operation: operation.operationId, errors: contract.requestBodyErrors(operation.operationId, { surprise: 1 }).length > 0 }).toEqual({
          operation: operation.operationId,
          errors: true,
        });
      }
    });

    it('documents a problem for 400, 401, 403 and 5xx on every operation that takes input and a caller, and 404 wherever a tenant is named', () => {
      const missing: string[] = [];
      const promised: string[] = [];
      for (const { operationId, path, operation } of contract.operations()) {
        const statuses = Object.keys(operation.responses as object);
        // Any valid token may call an `authenticated` operation: it cannot answer 403.
        const open = operation['x-access'] === 'authenticated';
        if (open && statuses.includes('403')) promised.push(`${operationId} 403`);
        // The IdP health probe takes no input and no credentials: it can only pass, fail or break.
        const wanted =
          operationId === 'idpHealth'
            ? ['200', '503', '500']
            : ['400', '401', '500', '503', ...(operationId === 'enrichToken' ? ['403', '404'] : open ? [] : ['403']), ...(path.includes('{tenant}') ? ['404'] : [])];
        for (const status of wanted) if (!statuses.includes(status)) missing.push(`${operationId} ${status}`);
      }
      expect({ missing, promised }).toEqual({ missing: [], promised: [] });
    });

    it('uses only HTTP methods as operation keys', () => {
      const allowed = new Set<string>([...HTTP_METHODS, 'parameters', 'servers', 'summary', 'description']);
      const odd = Object.entries(contract.doc.paths).flatMap(([path, item]) => Object.keys(item).filter((k) => !allowed.has(k)).map((k) => `${path} ${k}`));
      expect(odd).toEqual([]);
    });
  });

  describe('against the real service', () => {
    it('answers the tenant operations as documented', async () => {
      const body = { slug: 'oas-initech', name: 'Initech' };
      const created = await call('createTenant', admin, { body, headers: { 'idempotency-key': 'oas-tenant-1' } });
      expectStatus(created, 201);
      expect(created.headers.get('etag')).toBe('"v1"');

      const replay = await call('createTenant', admin, { body, headers: { 'idempotency-key': 'oas-tenant-1' } });
      expectStatus(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.json).toEqual(created.json);
      expectStatus(await call('createTenant', admin, { body: { ...body, name: 'Other' }, headers: { 'idempotency-key': 'oas-tenant-1' } }), 422);
      expectStatus(await call('createTenant', admin, { body }), 409);
      expectStatus(await call('createTenant', admin, { body: { slug: 'oas-other', name: 'Other', status: 'active' } }), 201);

      const unknownField = { ...body, slug: 'oas-extra', id: '00000000-0000-4000-8000-000000000000' };
      expect(contract.requestBodyErrors('createTenant', unknownField)).not.toEqual([]);
      const refused = await call('createTenant', admin, { body: unknownField });
      expectStatus(refused, 400);
      expect(refused.json.errors).toEqual([expect.objectContaining({ path: '(root)' })]);
      expectStatus(await call('createTenant', admin, { body: { slug: 'Not A Slug', name: 'x' } }), 400);
      expectStatus(await call('createTenant', admin, { body: '{"slug": ' }), 400);
      expectStatus(await call('createTenant', admin, { body: 'slug=x', headers: { 'content-type': 'text/plain' } }), 415);
      expectStatus(await call('createTenant', admin, { body: { slug: 'oas-big', name: 'x'.repeat(70_000) } }), 413);

      const firstPage = await call('listTenants', admin, { query: { limit: '1' } });
      expectStatus(firstPage, 200);
      expect(firstPage.json.items).toHaveLength(1);
      expect(typeof firstPage.json.next_cursor).toBe('string');
      const nextPage = await call('listTenants', admin, { query: { limit: '100', cursor: firstPage.json.next_cursor } });
      expectStatus(nextPage, 200);
      expect(nextPage.json.next_cursor).toBeNull();
      expectStatus(await call('listTenants', admin, { query: { limit: '0' } }), 400);
      expectStatus(await call('listTenants', admin, { query: { cursor: 'not-a-cursor' } }), 400);

      const read = await call('getTenant', admin, { params: { tenant: 'oas-initech' } });
      expectStatus(read, 200);
      const etag = read.headers.get('etag')!;
      expectStatus(await call('getTenant', admin, { params: { tenant: 'oas-absent' } }), 404);
      expectStatus(await call('getTenant', admin, { params: { tenant: 'x' } }), 400);
      expectStatus(await call('getTenant', 'tenantAdmin', { params: { tenant: 'acme' } }), 200);

      expectStatus(await call('updateTenant', admin, { params: { tenant: 'oas-initech' }, body: { name: 'Initech Ltd' } }), 428);
      const renamed = await call('updateTenant', admin, { params: { tenant: 'oas-initech' }, body: { name: 'Initech Ltd' }, headers: { 'if-match': etag } });
      expectStatus(renamed, 200);
      expect(renamed.headers.get('etag')).not.toBe(etag);
      expectStatus(await call('updateTenant', admin, { params: { tenant: 'oas-initech' }, body: { status: 'suspended' }, headers: { 'if-match': etag } }), 412);
      expectStatus(await call('updateTenant', admin, { params: { tenant: 'oas-initech' }, body: { slug: 'renamed' }, headers: { 'if-match': renamed.headers.get('etag')! } }), 400);
      expectStatus(await call('updateTenant', admin, { params: { tenant: 'oas-absent' }, body: { name: 'x' }, headers: { 'if-match': '"v1"' } }), 404);
      const platform = await call('getTenant', admin, { params: { tenant: 'platform' } });
      expectStatus(platform, 200);
      expectStatus(await call('updateTenant', admin, { params: { tenant: 'platform' }, body: { status: 'suspended' }, headers: { 'if-match': platform.headers.get('etag')! } }), 409);

      expectStatus(await call('deleteTenant', admin, { params: { tenant: 'platform' } }), 409);
      expectStatus(await call('deleteTenant', admin, { params: { tenant: 'oas-other' } }), 204);
      expectStatus(await call('deleteTenant', admin, { params: { tenant: 'oas-other' } }), 404);
      expect(contract.drain()).toEqual([]);
    });

    it('answers the role operations as documented', async () => {
      expectStatus(await call('createTenant', admin, { body: { slug: 'oas-roles', name: 'Roles' } }), 201);
      const tenant = { tenant: 'oas-roles' };
      const body = { name: 'billing-admin', description: 'Billing', permissions: ['invoices:read', 'invoices:write'] };
      const created = await call('createRole', admin, { params: tenant, body, headers: { 'idempotency-key': 'oas-role-1' } });
      expectStatus(created, 201);
      const replay = await call('createRole', admin, { params: tenant, body, headers: { 'idempotency-key': 'oas-role-1' } });
      expectStatus(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.json).toEqual(created.json);
      expectStatus(await call('createRole', admin, { params: tenant, body: { ...body, permissions: [] }, headers: { 'idempotency-key': 'oas-role-1' } }), 422);
      expectStatus(await call('createRole', admin, { params: tenant, body }), 409);
      expectStatus(await call('createRole', admin, { params: tenant, body: { name: 'viewer', permissions: ['invoices:read'] } }), 201);
      expectStatus(await call('createRole', admin, { params: tenant, body: { name: 'auditor', permissions: ['bad permission'] } }), 400);
      expectStatus(await call('createRole', admin, { params: { tenant: 'oas-absent' }, body }), 404);
      expectStatus(await call('createRole', 'tenantAdmin', { params: { tenant: 'acme' }, body: { name: 'clerk', permissions: ['invoices:read'] } }), 201);
      expectStatus(await call('createRole', 'tenantAdmin', { params: { tenant: 'globex' }, body: { name: 'clerk', permissions: [] } }), 404);

      const firstPage = await call('listRoles', admin, { params: tenant, query: { limit: '1' } });
      expectStatus(firstPage, 200);
      expect(firstPage.json.items.map((r: { name: string }) => r.name)).toEqual(['billing-admin']);
      expect(typeof firstPage.json.next_cursor).toBe('string');
      expectStatus(await call('listRoles', admin, { params: tenant, query: { cursor: firstPage.json.next_cursor } }), 200);
      expectStatus(await call('listRoles', admin, { params: { tenant: 'oas-absent' } }), 404);

      const read = await call('getRole', admin, { params: { ...tenant, role: 'billing-admin' } });
      expectStatus(read, 200);
      expectStatus(await call('getRole', admin, { params: { ...tenant, role: 'absent' } }), 404);

      const role = { ...tenant, role: 'billing-admin' };
      expectStatus(await call('updateRole', admin, { params: role, body: { description: 'Bills' } }), 428);
      const updated = await call('updateRole', admin, { params: role, body: { description: 'Bills', permissions: ['invoices:read'] }, headers: { 'if-match': read.headers.get('etag')! } });
      expectStatus(updated, 200);
      expectStatus(await call('updateRole', admin, { params: role, body: { description: 'Stale' }, headers: { 'if-match': read.headers.get('etag')! } }), 412);
      expectStatus(await call('updateRole', admin, { params: role, body: { description: 'x' }, headers: { 'if-match': 'v2' } }), 412);
      expectStatus(await call('updateRole', admin, { params: role, body: { name: 'renamed' }, headers: { 'if-match': updated.headers.get('etag')! } }), 400);
      expectStatus(await call('updateRole', admin, { params: { ...tenant, role: 'absent' }, body: {}, headers: { 'if-match': '"v1"' } }), 404);

      expectStatus(await call('deleteRole', admin, { params: { ...tenant, role: 'viewer' } }), 204);
      expectStatus(await call('deleteRole', admin, { params: { ...tenant, role: 'viewer' } }), 404);
      expect(contract.drain()).toEqual([]);
    });

    it('answers the user mapping operations as documented', async () => {
      const createdTenant = await call('createTenant', admin, { body: { slug: 'oas-users', name: 'Users' } });
      expectStatus(createdTenant, 201);
      const tenant = { tenant: 'oas-users' };
      expectStatus(await call('createRole', admin, { params: tenant, body: { name: 'viewer', permissions: ['reports:read'] } }), 201);
      const alice = { ...tenant, subject: 'auth0|alice@example.com' };

      const created = await call('putUser', admin, { params: alice, body: { roles: ['viewer'] } });
      expectStatus(created, 201);
      const replaced = await call('putUser', admin, { params: alice, body: { roles: ['viewer', 'viewer'] } });
      expectStatus(replaced, 200);
      const etag = replaced.headers.get('etag')!;
      expectStatus(await call('putUser', admin, { params: alice, body: { roles: [] }, headers: { 'if-match': etag } }), 200);
      expectStatus(await call('putUser', admin, { params: alice, body: { roles: [] }, headers: { 'if-match': etag } }), 412);
      expectStatus(await call('putUser', admin, { params: { ...tenant, subject: 'nobody' }, body: { roles: [] }, headers: { 'if-match': '"v1"' } }), 412);
      const unknownRole = await call('putUser', admin, { params: alice, body: { roles: ['absent'] } });
      expectStatus(unknownRole, 400);
      expect(unknownRole.json.errors).toEqual([expect.objectContaining({ path: 'roles' })]);
      expectStatus(await call('putUser', admin, { params: alice, body: { roles: [], extra: true } }), 400);
      await mapSubject(stack.db, createdTenant.json.id, 'oas-machine', [], 'client');
      expectStatus(await call('putUser', admin, { params: { ...tenant, subject: 'oas-machine' }, body: { roles: [] } }), 409);
      expectStatus(await call('putUser', 'tenantAdmin', { params: { tenant: 'acme', subject: 'bob' }, body: { roles: ['viewer'] } }), 201);
      expectStatus(await call('putUser', admin, { params: { ...tenant, subject: 'bob' }, body: { roles: ['viewer'] } }), 201);

      const firstPage = await call('listUsers', admin, { params: tenant, query: { limit: '1' } });
      expectStatus(firstPage, 200);
      expect(typeof firstPage.json.next_cursor).toBe('string');
      expectStatus(await call('listUsers', admin, { params: tenant, query: { limit: '1', cursor: firstPage.json.next_cursor } }), 200);

      const read = await call('getUser', admin, { params: alice });
      expectStatus(read, 200);
      expect(read.json.subject).toBe('auth0|alice@example.com');
      expectStatus(await call('getUser', admin, { params: { ...tenant, subject: 'nobody' } }), 404);

      expectStatus(await call('deleteUser', admin, { params: alice }), 204);
      expectStatus(await call('deleteUser', admin, { params: alice }), 404);
      expect(contract.drain()).toEqual([]);
    });

    it('answers the OAuth client operations as documented', async () => {
      expectStatus(await call('createTenant', admin, { body: { slug: 'oas-clients', name: 'Clients' } }), 201);
      const tenant = { tenant: 'oas-clients' };
      expectStatus(await call('createRole', admin, { params: tenant, body: { name: 'exporter', permissions: ['invoices:read'] } }), 201);

      // Create: the live answer carries the secret; the replay is the plain client.
      const body = { client_name: 'Exporter', roles: ['exporter'], scope: 'iam' };
      const created = await call('createClient', admin, { params: tenant, body, headers: { 'idempotency-key': 'oas-client-1' } });
      expectStatus(created, 201);
      expect(created.json).toMatchObject({ client_name: 'Exporter', client_secret: expect.any(String), client_secret_expires_at: 0 });
      const client = { ...tenant, client: created.json.client_id as string };
      expect(created.headers.get('location')).toBe(`/tenants/oas-clients/clients/${encodeURIComponent(client.client)}`);
      expect(created.headers.get('etag')).toBe('"v1"');
      const replay = await call('createClient', admin, { params: tenant, body, headers: { 'idempotency-key': 'oas-client-1' } });
      expectStatus(replay, 201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      const { client_secret: _secret, client_secret_expires_at: _expires, ...plain } = created.json;
      expect(replay.json).toEqual(plain);
      expectStatus(await call('createClient', admin, { params: tenant, body: { ...body, client_name: 'Other' }, headers: { 'idempotency-key': 'oas-client-1' } }), 422);
      const everyField = {
        client_name: 'Web app',
        grant_types: ['authorization_code'],
        redirect_uris: ['https://app.example/callback?tab=1', 'http://127.0.0.1:8080/callback'],
        scope: 'openid iam',
        token_endpoint_auth_method: 'client_secret_post',
        roles: [],
      };
      const web = await call('createClient', admin, { params: tenant, body: everyField });
      expectStatus(web, 201);

      // Refused metadata: a problem with the RFC 7591 code, whether the schema or a cross-field rule refuses it.
      const fragment = await call('createClient', admin, {
        params: tenant,
        body: { client_name: 'x', grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb#frag'] },
      });
      expectStatus(fragment, 400);
      expect([fragment.json.error, fragment.json.errors]).toEqual(['invalid_redirect_uri', [expect.objectContaining({ path: 'redirect_uris.0' })]]);
      const codeWithoutUri = await call('createClient', admin, { params: tenant, body: { client_name: 'x', grant_types: ['authorization_code'] } });
      expectStatus(codeWithoutUri, 400);
      expect(codeWithoutUri.json.error).toBe('invalid_redirect_uri');
      const unknownRole = await call('createClient', admin, { params: tenant, body: { client_name: 'x', roles: ['absent'] } });
      expectStatus(unknownRole, 400);
      expect(unknownRole.json.error).toBe('invalid_client_metadata');
      const ownSecret = { client_name: 'x', client_secret: 'chosen-by-the-caller' };
      expect(contract.requestBodyErrors('createClient', ownSecret)).not.toEqual([]);
      const refused = await call('createClient', admin, { params: tenant, body: ownSecret });
      expectStatus(refused, 400);
      expect(refused.json.error).toBe('invalid_client_metadata');
      expectStatus(await call('createClient', admin, { params: tenant, body: '{"client_name": ' }), 400);
      expectStatus(await call('createClient', admin, { params: tenant, body: 'client_name=x', headers: { 'content-type': 'text/plain' } }), 415);
      expectStatus(await call('createClient', admin, { params: tenant, body: { client_name: 'x', scope: 'a'.repeat(70_000) } }), 413);
      expectStatus(await call('createClient', admin, { params: { tenant: 'oas-absent' }, body }), 404);
      expectStatus(await call('createClient', 'tenantAdmin', { params: { tenant: 'globex' }, body: { client_name: 'x' } }), 404);

      const firstPage = await call('listClients', admin, { params: tenant, query: { limit: '1' } });
      expectStatus(firstPage, 200);
      expect(firstPage.json.items).toHaveLength(1);
      expect(typeof firstPage.json.next_cursor).toBe('string');
      const nextPage = await call('listClients', admin, { params: tenant, query: { limit: '100', cursor: firstPage.json.next_cursor } });
      expectStatus(nextPage, 200);
      expect(nextPage.json.next_cursor).toBeNull();
      expectStatus(await call('listClients', admin, { params: { tenant: 'oas-absent' } }), 404);
      expectStatus(await call('listClients', admin, { params: tenant, query: { limit: '0' } }), 400);

      const read = await call('getClient', admin, { params: client });
      expectStatus(read, 200);
      expect(read.json).toEqual(plain);
      expectStatus(await call('getClient', admin, { params: { ...tenant, client: 'absent-client' } }), 404);
      expectStatus(await call('getClient', admin, { params: { ...tenant, client: 'not a client id' } }), 400);

      // Update: If-Match required, stale versions refused, the same metadata rules as a create.
      expectStatus(await call('updateClient', admin, { params: client, body: { client_name: 'Exporter v2' } }), 428);
      const updated = await call('updateClient', admin, {
        params: client,
        body: { client_name: 'Exporter v2', roles: [] },
        headers: { 'if-match': read.headers.get('etag')! },
      });
      expectStatus(updated, 200);
      expect(updated.json).toMatchObject({ client_name: 'Exporter v2', roles: [] });
      expect(updated.headers.get('etag')).toBe('"v2"');
      const stale = await call('updateClient', admin, { params: client, body: { client_name: 'Stale' }, headers: { 'if-match': read.headers.get('etag')! } });
      expectStatus(stale, 412);
      const uriWithoutCode = await call('updateClient', admin, {
        params: client,
        body: { redirect_uris: ['https://app.example/callback'] },
        headers: { 'if-match': updated.headers.get('etag')! },
      });
      expectStatus(uriWithoutCode, 400);
      expect(uriWithoutCode.json.error).toBe('invalid_redirect_uri');
      expectStatus(await call('updateClient', admin, { params: client, body: { client_id: 'renamed' }, headers: { 'if-match': updated.headers.get('etag')! } }), 400);
      expectStatus(await call('updateClient', admin, { params: { ...tenant, client: 'absent-client' }, body: {}, headers: { 'if-match': '"v1"' } }), 404);

      const rotated = await call('rotateClientSecret', admin, { params: client });
      expectStatus(rotated, 200);
      expect(rotated.json.client_secret).not.toBe(created.json.client_secret);
      expect(rotated.headers.get('etag')).toBe('"v3"');
      expectStatus(await call('rotateClientSecret', admin, { params: { ...tenant, client: 'absent-client' } }), 404);

      // A client R-Auth no longer knows (deleted behind this service's back): 409, and deletable.
      const idpDelete = await fetch(`${stack.idp.adminApiUrl}/clients/${encodeURIComponent(web.json.client_id)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${stack.idp.initialAccessToken}` },
      });
      expect(idpDelete.status).toBe(204);
      const webClient = { ...tenant, client: web.json.client_id as string };
      const gone = await call('updateClient', admin, { params: webClient, body: { client_name: 'Web app v2' }, headers: { 'if-match': '"v1"' } });
      expectStatus(gone, 409);
      expect(gone.json.type).toBe('urn:citadel:iam:problem:idp-client-gone');
      expectStatus(await call('rotateClientSecret', admin, { params: webClient }), 409);
      expectStatus(await call('deleteTenant', admin, { params: tenant }), 409);
      expectStatus(await call('deleteClient', admin, { params: webClient }), 204);

      expectStatus(await call('deleteClient', admin, { params: client, headers: { 'if-match': '"v1"' } }), 412);
      expectStatus(await call('deleteClient', admin, { params: client, headers: { 'if-match': rotated.headers.get('etag')! } }), 204);
      expectStatus(await call('deleteClient', admin, { params: client }), 404);
      expect(contract.drain()).toEqual([]);
    });

    it('answers the access explanations and who-has as documented', async () => {
      const createdTenant = await call('createTenant', admin, { body: { slug: 'oas-access', name: 'Access' } });
      expectStatus(createdTenant, 201);
      const tenant = { tenant: 'oas-access' };
      expectStatus(await call('createRole', admin, { params: tenant, body: { name: 'reader', permissions: ['reports:read', 'reports:*'] } }), 201);
      expectStatus(await call('putUser', admin, { params: { ...tenant, subject: 'carol' }, body: { roles: ['reader'] } }), 201);
      await mapSubject(stack.db, createdTenant.json.id, 'oas-access-machine', [], 'client');

      const explained = await call('explainUser', admin, { params: { ...tenant, subject: 'carol' } });
      expectStatus(explained, 200);
      expect(explained.json.permissions).toEqual([
        { permission: 'reports:*', roles: ['reader'] },
        { permission: 'reports:read', roles: ['reader'] },
      ]);
      expect(explained.json.enrich_token).toEqual({ request: { subject: 'carol', tenant: 'oas-access' }, status: 200, type: null });
      const unmapped = await call('explainUser', 'tenantAdmin', { params: { tenant: 'acme', subject: 'nobody-here' } });
      expectStatus(unmapped, 200);
      expect(unmapped.json).toMatchObject({ subject_type: null, roles: [], enrich_token: { status: 404, type: 'urn:citadel:iam:problem:subject-not-found' } });
      expectStatus(await call('explainUser', admin, { params: { ...tenant, subject: 'oas-access-machine' } }), 404);
      expectStatus(await call('explainUser', admin, { params: { tenant: 'oas-absent', subject: 'carol' } }), 404);
      expectStatus(await call('explainUser', admin, { params: { ...tenant, subject: 'carol' }, query: { limit: '1' } }), 400);

      const client = await call('explainClient', admin, { params: { ...tenant, client: 'oas-access-machine' } });
      expectStatus(client, 200);
      expect(client.json).toMatchObject({ subject_type: 'client', roles: [], enrich_token: { status: 200 } });
      expectStatus(await call('explainClient', admin, { params: { ...tenant, client: 'carol' } }), 404);

      const holders = await call('whoHas', admin, { params: { ...tenant, permission: 'reports:export' }, query: { limit: '1' } });
      expectStatus(holders, 200);
      expect(holders.json).toEqual({ permission: 'reports:export', items: [{ subject: 'carol', subject_type: 'user', roles: ['reader'] }], next_cursor: null });
      expectStatus(await call('whoHas', admin, { params: { ...tenant, permission: 'reports read' } }), 400);
      expectStatus(await call('whoHas', admin, { params: { ...tenant, permission: 'reports:read' }, query: { cursor: 'not-a-cursor' } }), 400);
      expect(contract.drain()).toEqual([]);
    });

    it('answers the audit reads as documented', async () => {
      const tenantTrail = await call('listTenantAudit', 'tenantAdmin', { params: { tenant: 'acme' }, query: { limit: '1' } });
      expectStatus(tenantTrail, 200);
      expect(typeof tenantTrail.json.next_cursor).toBe('string');
      expectStatus(await call('listTenantAudit', 'tenantAdmin', { params: { tenant: 'acme' }, query: { cursor: tenantTrail.json.next_cursor } }), 200);
      expectStatus(await call('listTenantAudit', admin, { params: { tenant: 'oas-absent' } }), 404);

      const trail = await call('listAudit', admin, { query: { limit: '2' } });
      expectStatus(trail, 200);
      expect(typeof trail.json.next_cursor).toBe('string');
      expectStatus(await call('listAudit', admin, { query: { limit: '100', cursor: trail.json.next_cursor } }), 200);
      const tenantCursor = (await call('listTenants', admin, { query: { limit: '1' } })).json.next_cursor as string;
      expectStatus(await call('listAudit', admin, { query: { cursor: tenantCursor } }), 400);
      expectStatus(await call('listAudit', admin, { query: { limit: '101' } }), 400);
      expect(contract.drain()).toEqual([]);
    });

    it('answers callers it does not know or does not allow as documented', async () => {
      for (const persona of ['none', 'bad', 'expired', 'wrongKey'] as const) {
        expectStatus(await call('listTenants', persona), 401);
        expectStatus(await call('getRole', persona, { params: { tenant: 'acme', role: 'viewer' } }), 401);
        expectStatus(await call('createRole', persona, { params: { tenant: 'acme' }, body: { name: 'x', permissions: [] } }), 401);
      }
      expectStatus(await call('listAudit', 'user'), 403);
      expectStatus(await call('getTenant', 'user', { params: { tenant: 'acme' } }), 403);
      expectStatus(await call('createTenant', 'tenantAdmin', { body: { slug: 'oas-denied', name: 'x' } }), 403);
      expectStatus(await call('deleteTenant', 'tenantAdmin', { params: { tenant: 'acme' } }), 403);
      expectStatus(await call('getTenant', 'otherTenantAdmin', { params: { tenant: 'acme' } }), 404);
      expectStatus(await call('deleteUser', 'otherTenantAdmin', { params: { tenant: 'acme', subject: 'bob' } }), 404);
      expectStatus(await call('listRoles', 'tenantAdmin', { params: { tenant: 'platform' } }), 404);
      expectStatus(await call('listClients', 'none', { params: { tenant: 'acme' } }), 401);
      expectStatus(await call('createClient', 'user', { params: { tenant: 'acme' }, body: { client_name: 'x' } }), 403);
      expectStatus(await call('getClient', 'otherTenantAdmin', { params: { tenant: 'acme', client: 'any-client' } }), 404);
      expectStatus(await call('rotateClientSecret', 'otherTenantAdmin', { params: { tenant: 'acme', client: 'any-client' } }), 404);
      expect(contract.drain()).toEqual([]);
    });

    it('answers who the caller is as documented', async () => {
      const scopes = [];
      for (const persona of ['platformAdmin', 'tenantAdmin', 'user'] as const) {
        const answer = await call('whoAmI', persona);
        expectStatus(answer, 200);
        scopes.push(answer.json);
      }
      expect(scopes).toEqual([
        { subject: expect.any(String), platform_admin: true, tenants: ['platform'] },
        { subject: 'acme-admin', platform_admin: false, tenants: ['acme'] },
        { subject: 'acme-user', platform_admin: false, tenants: [] },
      ]);
      for (const persona of ['none', 'bad', 'expired', 'wrongKey'] as const) expectStatus(await call('whoAmI', persona), 401);
      expectStatus(await call('whoAmI', 'tenantAdmin', { query: { tenant: 'globex' } }), 400);
      expect(contract.drain()).toEqual([]);
    });

    it('answers the IdP health probe as documented', async () => {
      const report = await call('idpHealth', {});
      expectStatus(report, 200);
      expect(report.json).toMatchObject({ status: 'pass' });
      expect(contract.drain()).toEqual([]);
    });

    it('answers enrich-token as documented', async () => {
      const gateway = { apiKey: ENRICH_KEY };
      expectStatus(await call('putUser', admin, { params: { tenant: 'acme', subject: 'oas-carol' }, body: { roles: ['viewer'] } }), 201);

      const claims = await call('enrichToken', gateway, { body: { subject: 'oas-carol', tenant: 'acme' } });
      expectStatus(claims, 200);
      expect(claims.json).toMatchObject({ subject: 'oas-carol', subject_type: 'user', tenant: { slug: 'acme' }, roles: ['viewer'] });
      expectStatus(await call('enrichToken', gateway, { body: { subject: 'oas-carol', client_id: 'gateway-web' } }), 200);

      expectStatus(await call('putUser', admin, { params: { tenant: 'globex', subject: 'oas-carol' }, body: { roles: [] } }), 201);
      expectStatus(await call('enrichToken', gateway, { body: { subject: 'oas-carol' } }), 200); // acme: its home
      // Its home tenant removes it while two others have it: no home, so 409.
      expectStatus(await call('createTenant', admin, { body: { slug: 'oas-third', name: 'Third' } }), 201);
      expectStatus(await call('putUser', admin, { params: { tenant: 'oas-third', subject: 'oas-carol' }, body: { roles: [] } }), 201);
      expectStatus(await call('deleteUser', admin, { params: { tenant: 'acme', subject: 'oas-carol' } }), 204);
      expectStatus(await call('enrichToken', gateway, { body: { subject: 'oas-carol' } }), 409);
      expectStatus(await call('putUser', admin, { params: { tenant: 'acme', subject: 'oas-carol' }, body: { roles: ['viewer'] } }), 201);

      expectStatus(await call('createTenant', admin, { body: { slug: 'oas-frozen', name: 'Frozen', status: 'suspended' } }), 201);
      expectStatus(await call('putUser', admin, { params: { tenant: 'oas-frozen', subject: 'oas-dave' }, body: { roles: [] } }), 201);
      expectStatus(await call('enrichToken', gateway, { body: { subject: 'oas-dave', tenant: 'oas-frozen' } }), 403);

      expectStatus(await call('enrichToken', gateway, { body: { subject: 'oas-nobody', tenant: 'acme' } }), 404);
      expectStatus(await call('enrichToken', gateway, { body: { subject: 'oas-carol', tenant: 'oas-absent' } }), 404);
      const unknownField = { subject: 'oas-carol', tenant: 'acme', scope: 'openid' };
      expect(contract.requestBodyErrors('enrichToken', unknownField)).not.toEqual([]);
      expectStatus(await call('enrichToken', gateway, { body: unknownField }), 400);
      expectStatus(await call('enrichToken', gateway, { body: '' }), 400);
      expectStatus(await call('enrichToken', gateway, { body: 'subject=x', headers: { 'content-type': 'text/plain' } }), 415);
      expectStatus(await call('enrichToken', gateway, { body: { subject: 'x'.repeat(70_000) } }), 413);
      expectStatus(await call('enrichToken', {}, { body: { subject: 'oas-carol', tenant: 'acme' } }), 401);
      expectStatus(await call('enrichToken', { apiKey: 'not-the-key-not-the-key-not-the-key' }, { body: { subject: 'oas-carol' } }), 401);
      expect(contract.drain()).toEqual([]);
    });

    it('keeps an inbound request id and echoes it in problems', async () => {
      const answer = await call('getTenant', admin, { params: { tenant: 'oas-absent' }, headers: { 'x-request-id': 'oas-contract-req-1' } });
      expectStatus(answer, 404);
      expect(answer.headers.get('x-request-id')).toBe('oas-contract-req-1');
      expect(answer.json.request_id).toBe('oas-contract-req-1');
      expect(contract.drain()).toEqual([]);
    });

    // Runs last: it reads the exchanges of the scenario tests above.
    it('exercises every documented operation with a success', () => {
      const seen = contract.exercised();
      const unexercised = contract
        .operations()
        .filter((o) => ![...(seen.get(o.operationId) ?? [])].some((status) => status >= 200 && status < 300))
        .map((o) => `${o.method} ${o.path} (${o.operationId})`);
      expect(unexercised).toEqual([]);
    });
  });
});
