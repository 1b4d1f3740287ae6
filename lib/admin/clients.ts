/**
 * OAuth client use cases. Each one touches two systems, the IdP (R-Auth) and Postgres, and
 * must leave them agreeing after any single failure. The shape that makes that true:
 *
 * 1. Inside the transaction, after every local check and under the client's row lock, call the
 *    IdP; then write the row, the event and the audit entry; then commit. An IdP failure (5xx,
 *    timeout, refusal) rolls the transaction back: nothing changed in Postgres.
 * 2. If the commit (or anything after the IdP call) fails, compensate at the IdP: a created
 *    client is deleted again; an updated one gets its previous metadata back.
 * 3. What no compensation can reach — an IdP success whose response was lost, a compensation
 *    that fails too, a deleted client whose row outlived the commit — reconcile repairs
 *    (lib/admin/reconcile.ts): Postgres is the source of truth for which clients exist.
 * 4. An update or rotation applied at the IdP whose answer was lost leaves the row with a
 *    registration access token the IdP has replaced. The next change of that client (and
 *    reconcile) then goes through the IdP's admin API instead (lib/admin/client-at-idp.ts), so
 *    the client stays manageable; a delete is never answered 204 while the IdP may still have it.
 *
 * Client secrets are never stored: create and rotate return one once, outside the idempotency
 * record, so a replay never shows it again. The registration access token is sealed at rest.
 */
import { BadRequestError, NotFoundError } from '../errors.js';
import { cloudEvent } from '../events/catalog.js';
import type { Logger } from '../observability/logger.js';
import { deleteAtIdp, type IdpSide, metadataOf, refOf, rotateAtIdp, sealed, updateAtIdp } from './client-at-idp.js';
import type { ClientMetadata, ClientRef, ClientRegistration } from './idp-admin.js';
import type { Client, PageRequest } from './model.js';
import { type IfMatch, type MutationContext, mutate, type Reply } from './mutation.js';
import type { Lock, PolicyRepositories } from './ports.js';
import { lockRoles, lockTenant } from './lock-order.js';
import { checkVersion, type Deps, requireTenant } from './tenants.js';
import { clientView, pageView } from './views.js';

/** The IdP's registration API (RFC 7591/7592) and its admin API (`inventory`), which recovers a client whose registration access token went stale. */
export interface ClientDeps extends Deps, IdpSide {
  log: Logger;
}

export type ClientInput = ClientMetadata & { roles: string[] };
export type ClientChange = Partial<ClientInput>;

const target = (tenant: string, clientId: string) => `tenants/${tenant}/clients/${encodeURIComponent(clientId)}`;

/** RFC 7591 §3.2.2 wording for a body that fails the schema: redirect URIs get their own code. */
export function clientMetadataError(error: BadRequestError): BadRequestError {
  const code = error.issues.some((issue) => issue.path.startsWith('redirect_uris')) ? 'invalid_redirect_uri' : 'invalid_client_metadata';
  return new BadRequestError(error.message, error.issues, { error: code });
}

/** Checks that need more than one field, or the tenant's roles. */
async function checkClient(tx: PolicyRepositories, tenantId: string, input: ClientInput): Promise<void> {
  const code = input.grant_types.includes('authorization_code');
  if (code && input.redirect_uris.length === 0) {
    throw new BadRequestError('The authorization_code grant needs at least one redirect URI.', [{ path: 'redirect_uris', message: 'required with authorization_code' }], {
      error: 'invalid_redirect_uri',
    });
  }
  if (!code && input.redirect_uris.length > 0) {
    throw new BadRequestError('Redirect URIs are only used by the authorization_code grant.', [{ path: 'redirect_uris', message: 'must be empty without authorization_code' }], {
      error: 'invalid_redirect_uri',
    });
  }
  if (input.grant_types.includes('refresh_token') && !code) {
    throw new BadRequestError('refresh_token is only issued with the authorization_code grant.', [{ path: 'grant_types', message: 'refresh_token needs authorization_code' }], {
      error: 'invalid_client_metadata',
    });
  }
  const missing = await tx.roles.missing(tenantId, [...new Set(input.roles)]);
  if (missing.length > 0) {
    throw new BadRequestError(
      `Unknown role(s) in this tenant: ${missing.join(', ')}.`,
      missing.map((role) => ({ path: 'roles', message: `role "${role}" does not exist in this tenant` })),
      { error: 'invalid_client_metadata' },
    );
  }
}

async function requireClient(repos: PolicyRepositories, tenantId: string, clientId: string, options?: Lock): Promise<Client> {
  const client = await repos.clients.get(tenantId, clientId, options);
  if (!client) throw new NotFoundError(`Client "${clientId}" does not exist in this tenant.`, 'client-not-found');
  return client;
}

/** The live answer gets the secret; the stored (replayable) one never does. */
function withSecret(reply: Reply, secret: string | undefined): Reply {
  if (reply.replayed || secret === undefined) return reply;
  return { ...reply, body: { ...(reply.body as object), client_secret: secret, client_secret_expires_at: 0 } };
}

/**
 * After a failed commit, stores the IdP's newest registration access token in its own small
 * transaction: an IdP that rotates it on every RFC 7592 call (oidc-provider, Keycloak) would
 * otherwise leave the row with a dead one and the client unmanageable. Best effort: logged, never thrown.
 */
async function keepLatest(deps: ClientDeps, tenantId: string, ref: ClientRef): Promise<void> {
  try {
    await deps.store.transaction('client.keep_registration', async (tx) => tx.clients.keepRegistration(tenantId, ref.client_id, await sealed(ref, deps.sealer)));
  } catch (error) {
    deps.log.error('could not store the IdP’s new registration access token; the client’s next change goes through the IdP admin API', { client_id: ref.client_id }, error);
  }
}

/** Runs an undo step at the IdP; a failure is logged (reconcile finishes the job), never thrown over the original error. */
async function compensate(deps: ClientDeps, what: string, clientId: string, undo: () => Promise<unknown>): Promise<void> {
  try {
    await undo();
    deps.log.warn('compensated an IdP change after the database write failed', { what, client_id: clientId });
  } catch (error) {
    deps.log.error('compensation at the IdP failed; the reconcile function will repair it', { what, client_id: clientId }, error);
  }
}

export async function createClient(deps: ClientDeps, ctx: MutationContext, slug: string, input: ClientInput): Promise<Reply> {
  let registered: (ClientRegistration & { client_secret?: string }) | undefined;
  try {
    const reply = await mutate(deps, ctx, 'client.create', async (tx) => {
      const tenant = await lockTenant(tx, slug);
      await lockRoles(tx, tenant.id, input.roles);
      await checkClient(tx, tenant.id, input);
      registered = await deps.idp.register(metadataOf(input));
      const client = await tx.clients.create(tenant.id, {
        clientId: registered.client_id,
        metadata: metadataOf(registered),
        roles: [...new Set(input.roles)],
        registration: await sealed(registered, deps.sealer),
        createdBy: ctx.actor,
      });
      const view = clientView(client, slug);
      return {
        reply: { status: 201, body: view, version: client.version, location: `/${target(slug, client.clientId)}` },
        action: 'client.create',
        target: target(slug, client.clientId),
        tenant,
        events: [cloudEvent('citadel.iam.client.created', target(slug, client.clientId), ctx.actor, view)],
      };
    }, { retry: () => registered === undefined }); // never past the IdP call: it would register twice
    return withSecret(reply, registered?.client_secret);
  } catch (error) {
    const orphan = registered;
    if (orphan) await compensate(deps, 'client.create', orphan.client_id, () => deps.idp.delete(orphan));
    throw error;
  }
}

export async function getClient(deps: Deps, slug: string, clientId: string): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  const client = await requireClient(deps.store, tenant.id, clientId);
  return { status: 200, body: clientView(client, slug), version: client.version };
}

export async function listClients(deps: Deps, slug: string, page: PageRequest): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  return { status: 200, body: pageView(await deps.store.clients.list(tenant.id, page), (c) => clientView(c, slug)) };
}

export async function updateClient(deps: ClientDeps, ctx: MutationContext, slug: string, clientId: string, ifMatch: IfMatch, change: ClientChange) {
  let undo: { tenantId: string; ref: ClientRef; fresh: boolean; previous: ClientMetadata } | undefined;
  try {
    return await mutate(deps, ctx, 'client.update', async (tx) => {
      // Tenant, the roles to assign, then the client's subject and row (lib/admin/lock-order.ts).
      const tenant = await lockTenant(tx, slug);
      if (change.roles) await lockRoles(tx, tenant.id, change.roles);
      const client = await requireClient(tx, tenant.id, clientId, { lock: true });
      checkVersion(client.version, ifMatch);
      const { roles = client.roles, ...metadataChange } = change;
      const wanted = { ...client.metadata, ...metadataChange };
      await checkClient(tx, tenant.id, { ...wanted, roles });
      let metadata: ClientMetadata | undefined;
      let registration: Client['registration'] | undefined;
      if (!sameMetadata(wanted, client.metadata)) {
        const stored = await refOf(client, deps.sealer);
        const updated = await updateAtIdp(deps, stored, wanted);
        undo = { tenantId: tenant.id, ref: updated.ref ?? stored, fresh: updated.ref !== undefined, previous: client.metadata };
        metadata = updated.metadata;
        registration = updated.ref && (await sealed(updated.ref, deps.sealer));
      }
      // Roles are rewritten only when the request names them: only those were locked above.
      const next = await tx.clients.update(tenant.id, clientId, { metadata, roles: change.roles && [...new Set(roles)], registration });
      const view = clientView(next, slug);
      return {
        reply: { status: 200, body: view, version: next.version },
        action: 'client.update',
        target: target(slug, clientId),
        tenant,
        events: [cloudEvent('citadel.iam.client.updated', target(slug, clientId), ctx.actor, view)],
      };
    }, { retry: () => undo === undefined });
  } catch (error) {
    const restore = undo;
    if (restore) {
      let latest = restore.fresh ? restore.ref : undefined;
      await compensate(deps, 'client.update', clientId, async () => {
        latest = (await updateAtIdp(deps, restore.ref, restore.previous)).ref ?? latest;
      });
      if (latest) await keepLatest(deps, restore.tenantId, latest);
    }
    throw error;
  }
}

/**
 * A new secret cannot be taken back: if the database fails after the IdP issued it, or the
 * IdP's answer is lost, the old secret is already dead and the new one was never seen: the caller
 * (who got a 5xx) rotates again, which works even though the row's registration access token is
 * stale by then (lib/admin/client-at-idp.ts). Postgres holds no secret, so the two systems still
 * agree on which clients exist.
 */
export async function rotateClientSecret(deps: ClientDeps, ctx: MutationContext, slug: string, clientId: string): Promise<Reply> {
  let done: { tenantId: string; ref?: ClientRef | undefined; secret: string } | undefined;
  try {
    const reply = await mutate(deps, ctx, 'client.rotate_secret', async (tx) => {
      const tenant = await lockTenant(tx, slug);
      const client = await requireClient(tx, tenant.id, clientId, { lock: true });
      const rotated = await rotateAtIdp(deps, await refOf(client, deps.sealer), client.metadata);
      done = { tenantId: tenant.id, ref: rotated.ref, secret: rotated.client_secret };
      const registration = rotated.ref && (await sealed(rotated.ref, deps.sealer));
      const next = await tx.clients.update(tenant.id, clientId, { registration });
      const view = clientView(next, slug);
      return {
        reply: { status: 200, body: view, version: next.version },
        action: 'client.rotate_secret',
        target: target(slug, clientId),
        tenant,
        events: [cloudEvent('citadel.iam.client.secret_rotated', target(slug, clientId), ctx.actor, { client_id: clientId, tenant: slug })],
      };
    }, { retry: () => done === undefined });
    return withSecret(reply, done?.secret);
  } catch (error) {
    if (done?.ref) await keepLatest(deps, done.tenantId, done.ref);
    throw error;
  }
}

/**
 * The IdP client goes first; a row that outlives a failed commit is removed by reconcile. Any
 * IdP failure (5xx, timeout, lost answer, a refused token the admin API cannot settle) is a 502
 * with the row kept: never a 204 while the IdP may still issue the client tokens. A client the
 * IdP answers 404 for is already gone: 204.
 */
export const deleteClient = (deps: ClientDeps, ctx: MutationContext, slug: string, clientId: string, ifMatch: IfMatch) =>
  // Retried even past the IdP call: a second delete there answers 404, which is "already gone".
  mutate(deps, ctx, 'client.delete', async (tx) => {
    const tenant = await lockTenant(tx, slug);
    const client = await requireClient(tx, tenant.id, clientId, { lock: true });
    checkVersion(client.version, ifMatch);
    await deleteAtIdp(deps, await refOf(client, deps.sealer));
    await tx.clients.delete(tenant.id, clientId);
    return {
      reply: { status: 204 },
      action: 'client.delete',
      target: target(slug, clientId),
      tenant,
      events: [cloudEvent('citadel.iam.client.deleted', target(slug, clientId), ctx.actor, { client_id: clientId, tenant: slug })],
    };
  });

/** Equal as the IdP sees them: list order does not matter. */
export function sameMetadata(a: ClientMetadata, b: ClientMetadata): boolean {
  const set = (values: readonly string[]) => [...values].sort().join(' ');
  return (
    a.client_name === b.client_name &&
    set(a.grant_types) === set(b.grant_types) &&
    set(a.redirect_uris) === set(b.redirect_uris) &&
    set(a.scope.split(' ').filter(Boolean)) === set(b.scope.split(' ').filter(Boolean)) &&
    a.token_endpoint_auth_method === b.token_endpoint_auth_method
  );
}
