import type { ClientRepository, Lock } from '../../admin/ports.js';
import type { Client } from '../../admin/model.js';
import { ConflictError } from '../../errors.js';
import { isConstraintViolation, type Queryable, UNIQUE_VIOLATION } from './database.js';
import { replaceSubjectRoles, toPage } from './rows.js';

interface ClientRow extends Record<string, unknown> {
  id: string;
  tenant_id: string;
  tenant_slug: string;
  client_id: string;
  client_name: string;
  grant_types: string[];
  redirect_uris: string[];
  scope: string;
  token_endpoint_auth_method: string;
  registration_client_uri: string;
  registration_token_enc: Buffer;
  roles: string[];
  created_by: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `
  SELECT c.id, c.tenant_id, t.slug AS tenant_slug, c.client_id, c.client_name, c.grant_types, c.redirect_uris, c.scope,
         c.token_endpoint_auth_method, c.registration_client_uri, c.registration_token_enc, c.created_by, c.version,
         c.created_at, c.updated_at,
         coalesce((SELECT array_agg(r.name ORDER BY r.name)
                     FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
                    WHERE sr.tenant_id = c.tenant_id AND sr.subject = c.client_id), '{}') AS roles
    FROM clients c JOIN tenants t ON t.id = c.tenant_id`;

const toClient = (r: ClientRow): Client & { tenantSlug: string } => ({
  id: r.id,
  tenantId: r.tenant_id,
  tenantSlug: r.tenant_slug,
  clientId: r.client_id,
  metadata: {
    client_name: r.client_name,
    grant_types: r.grant_types,
    redirect_uris: r.redirect_uris,
    scope: r.scope,
    token_endpoint_auth_method: r.token_endpoint_auth_method,
  },
  roles: r.roles,
  registration: { uri: r.registration_client_uri, sealedToken: r.registration_token_enc.toString('utf8') },
  createdBy: r.created_by,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function postgresClients(db: Queryable): ClientRepository {
  const get = async (tenantId: string, clientId: string, options?: Lock) => {
    // The subject row before the client row: role changes reach a client through its subject
    // (lib/admin/lock-order.ts: tenant → roles → subject → client).
    if (options?.lock) await db.query('client.lock_subject', 'SELECT 1 FROM subjects WHERE tenant_id = $1 AND subject = $2 FOR UPDATE', [tenantId, clientId]);
    const [row] = await db.query<ClientRow>(
      options?.lock ? 'client.get_locked' : 'client.get',
      `${SELECT} WHERE c.tenant_id = $1 AND c.client_id = $2${options?.lock ? ' FOR UPDATE OF c' : ''}`,
      [tenantId, clientId],
    );
    return row && toClient(row);
  };
  const setRoles = (tenantId: string, clientId: string, roles: readonly string[]) => replaceSubjectRoles(db, 'client', tenantId, clientId, roles);
  return {
    get,
    async create(tenantId, input) {
      try {
        await db.query('client.create_subject', "INSERT INTO subjects (tenant_id, subject, subject_type) VALUES ($1, $2, 'client')", [
          tenantId,
          input.clientId,
        ]);
      } catch (error) {
        // The IdP chose an id some user mapping of this tenant already uses as its subject.
        if (isConstraintViolation(error, UNIQUE_VIOLATION)) throw new ConflictError(`Subject "${input.clientId}" already exists in this tenant.`, 'subject-exists');
        throw error;
      }
      const m = input.metadata;
      await db.query(
        'client.create',
        `INSERT INTO clients (tenant_id, client_id, client_name, grant_types, redirect_uris, scope, token_endpoint_auth_method,
                              registration_client_uri, registration_token_enc, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [tenantId, input.clientId, m.client_name, m.grant_types, m.redirect_uris, m.scope, m.token_endpoint_auth_method,
          input.registration.uri, Buffer.from(input.registration.sealedToken, 'utf8'), input.createdBy],
      );
      await setRoles(tenantId, input.clientId, input.roles);
      return (await get(tenantId, input.clientId))!;
    },
    async list(tenantId, page) {
      const rows = await db.query<ClientRow>(
        'client.list',
        `${SELECT} WHERE c.tenant_id = $1 AND ($2::text IS NULL OR c.client_id > $2) ORDER BY c.client_id LIMIT $3`,
        [tenantId, page.after ?? null, page.limit + 1],
      );
      return toPage(rows, page, toClient, (c) => c.clientId);
    },
    async update(tenantId, clientId, change) {
      const m = change.metadata;
      await db.query(
        'client.update',
        `UPDATE clients SET client_name = coalesce($3, client_name), grant_types = coalesce($4, grant_types),
                redirect_uris = coalesce($5, redirect_uris), scope = coalesce($6, scope),
                token_endpoint_auth_method = coalesce($7, token_endpoint_auth_method),
                registration_client_uri = coalesce($8, registration_client_uri),
                registration_token_enc = coalesce($9, registration_token_enc),
                version = version + 1, updated_at = now()
          WHERE tenant_id = $1 AND client_id = $2`,
        [tenantId, clientId, m?.client_name ?? null, m?.grant_types ?? null, m?.redirect_uris ?? null, m?.scope ?? null,
          m?.token_endpoint_auth_method ?? null, change.registration?.uri ?? null,
          change.registration ? Buffer.from(change.registration.sealedToken, 'utf8') : null],
      );
      if (change.roles) await setRoles(tenantId, clientId, change.roles);
      return (await get(tenantId, clientId))!;
    },
    async keepRegistration(tenantId, clientId, registration) {
      await db.query(
        'client.keep_registration',
        'UPDATE clients SET registration_client_uri = $3, registration_token_enc = $4 WHERE tenant_id = $1 AND client_id = $2',
        [tenantId, clientId, registration.uri, Buffer.from(registration.sealedToken, 'utf8')],
      );
    },
    async delete(tenantId, clientId) {
      await db.query('client.delete', 'DELETE FROM clients WHERE tenant_id = $1 AND client_id = $2', [tenantId, clientId]);
      await db.query('client.delete_subject', "DELETE FROM subjects WHERE tenant_id = $1 AND subject = $2 AND subject_type = 'client'", [tenantId, clientId]);
    },
    async all() {
      return (await db.query<ClientRow>('client.all', `${SELECT} ORDER BY c.client_id`, [])).map(toClient);
    },
  };
}
