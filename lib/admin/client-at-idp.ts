/**
 * A client's changes at the IdP, and what happens when its registration access token is refused.
 *
 * A change goes first by RFC 7592 with the row's registration access token; the IdP answers with
 * the token's replacement (oidc-provider, Keycloak and Hydra replace it on every update), which
 * the caller stores. A 401 means the token was refused: the client is gone, or the token is stale
 * because an update or rotation was applied at the IdP and its answer lost (a timeout, a reset
 * connection). The change is then made once through the IdP's admin API by client_id
 * (`IdpInventory`), which also tells a gone client (404) from a live one.
 *
 * Why not get the token back: Hydra's admin API never returns one (it keeps only a hash), has no
 * call that issues one for an existing client, and its `PUT /admin/clients/{id}` clears the hash.
 * So the row keeps its dead token, and the next change takes the same path: a client recovered
 * once is managed through the admin API from then on. Re-registering under the same client_id
 * (admin DELETE, then POST with that id) would give a token back, but would also replace the
 * secret on a plain metadata update, and a crash between its two calls would leave no client at
 * the IdP (and reconcile would then remove the row): not used.
 */
import type { Logger } from '../observability/logger.js';
import type { Client } from './model.js';
import { IdpTokenRejectedError, type ClientMetadata, type ClientRef, type IdpAdmin, type IdpInventory } from './idp-admin.js';
import type { TokenSealer } from './ports.js';

/** What the client use cases and reconcile need to change a client at the IdP. */
export interface IdpSide {
  idp: IdpAdmin;
  inventory: IdpInventory;
  sealer: TokenSealer;
  log: Logger;
}

/** What a change left at the IdP. */
export interface Applied {
  metadata: ClientMetadata;
  /** The IdP's newest registration access token; absent when the change went through the admin API. */
  ref?: ClientRef;
}

export const metadataOf = (m: ClientMetadata): ClientMetadata => ({
  client_name: m.client_name,
  grant_types: m.grant_types,
  redirect_uris: m.redirect_uris,
  scope: m.scope,
  token_endpoint_auth_method: m.token_endpoint_auth_method,
});

const refFrom = (r: ClientRef): ClientRef => ({ client_id: r.client_id, registration_client_uri: r.registration_client_uri, registration_access_token: r.registration_access_token });

export async function refOf(client: Pick<Client, 'clientId' | 'registration'>, sealer: TokenSealer): Promise<ClientRef> {
  return { client_id: client.clientId, registration_client_uri: client.registration.uri, registration_access_token: await sealer.open(client.registration.sealedToken) };
}

export const sealed = async (r: ClientRef, sealer: TokenSealer): Promise<Client['registration']> => ({
  uri: r.registration_client_uri,
  sealedToken: await sealer.seal(r.registration_access_token),
});

async function recovering<T>(side: IdpSide, what: string, clientId: string, byToken: () => Promise<T>, byAdmin: () => Promise<T>): Promise<T> {
  try {
    return await byToken();
  } catch (error) {
    if (!(error instanceof IdpTokenRejectedError)) throw error;
    side.log.warn('the IdP refused the client’s registration access token; going through its admin API', { what, client_id: clientId });
    return byAdmin();
  }
}

/** Sets the client's metadata at the IdP. */
export const updateAtIdp = (side: IdpSide, ref: ClientRef, metadata: ClientMetadata): Promise<Applied> =>
  recovering(
    side,
    'update',
    ref.client_id,
    async () => {
      const updated = await side.idp.update(ref, metadata);
      return { metadata: metadataOf(updated), ref: refFrom(updated) };
    },
    async () => ({ metadata: metadataOf(await side.inventory.replace(ref.client_id, metadata)) }),
  );

/** Gives the client a new secret (the old one stops working at once) and sets its metadata. */
export const rotateAtIdp = (side: IdpSide, ref: ClientRef, metadata: ClientMetadata): Promise<Applied & { client_secret: string }> =>
  recovering(
    side,
    'rotate',
    ref.client_id,
    async () => {
      const rotated = await side.idp.rotateSecret(ref, metadata);
      return { metadata: metadataOf(rotated), ref: refFrom(rotated), client_secret: rotated.client_secret };
    },
    async () => {
      const { client_secret, ...replaced } = await side.inventory.replace(ref.client_id, metadata, { newSecret: true });
      if (client_secret === undefined) throw new Error('the admin API replaced the secret but returned none'); // the adapter always returns it
      return { metadata: metadataOf(replaced), client_secret };
    },
  );

/**
 * Deletes the client at the IdP; one already gone (404 from either API) counts as deleted. A
 * refused token is never taken as "gone": the client might still get tokens.
 */
export const deleteAtIdp = (side: IdpSide, ref: ClientRef): Promise<void> =>
  recovering(
    side,
    'delete',
    ref.client_id,
    () => side.idp.delete(ref),
    () => side.inventory.delete(ref.client_id),
  );
