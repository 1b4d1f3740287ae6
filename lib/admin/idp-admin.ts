/**
 * What the client use cases need from the IdP (R-Auth): OAuth 2.0 Dynamic Client Registration
 * (RFC 7591) and its management protocol (RFC 7592). The adapter is
 * lib/adapters/oidc/registration-client.ts; the errors below are all it throws.
 */
import { AppError, BadRequestError } from '../errors.js';

export interface ClientMetadata {
  client_name: string;
  grant_types: string[];
  redirect_uris: string[];
  scope: string;
  token_endpoint_auth_method: string;
}

/** What the caller keeps to manage a client later (seal `registration_access_token` at rest). */
export interface ClientRef {
  client_id: string;
  registration_client_uri: string;
  registration_access_token: string;
}

export interface ClientRegistration extends ClientMetadata, ClientRef {}

export interface IdpAdmin {
  /**
   * RFC 7591. The adapter tags the registration with this service's `software_id`, so the
   * inventory can tell our clients from everyone else's. The secret is returned once, for the caller to hand out; it is never stored. */
  register(metadata: ClientMetadata): Promise<ClientRegistration & { client_secret?: string }>;
  /**
   * RFC 7592 GET; undefined when the IdP answers 404. Like every RFC 7592 call below, a 401
   * (the token refused) throws IdpTokenRejectedError.
   */
  read(ref: ClientRef): Promise<ClientRegistration | undefined>;
  /** RFC 7592 PUT. The IdP may rotate the registration access token: store the returned one. */
  update(ref: ClientRef, metadata: ClientMetadata): Promise<ClientRegistration>;
  /** RFC 7592 PUT asking for a new secret; the old one stops working at once. */
  rotateSecret(ref: ClientRef, metadata: ClientMetadata): Promise<ClientRegistration & { client_secret: string }>;
  /** RFC 7592 DELETE; a 404 (already gone) counts as deleted, a 401 does not (IdpTokenRejectedError). */
  delete(ref: ClientRef): Promise<void>;
}

/** A client as the IdP's admin API lists it: what reconcile compares with Postgres. */
export interface InventoryClient extends ClientMetadata {
  client_id: string;
  /** When the IdP issued the client (RFC 7591 `client_id_issued_at`); reconcile spares young ones. */
  issuedAt: Date | undefined;
}

/**
 * What RFC 7591/7592 cannot give: the IdP's own list of clients, and management by client_id
 * without a registration access token. A registration whose response was lost left a client this
 * service holds no token for; an update or rotation whose response was lost left the row with a
 * token the IdP has since replaced. Only the IdP's admin API can reach those clients. The adapter
 * speaks the shape of Ory Hydra's admin API (`GET /admin/clients`, `GET`/`PUT`/`DELETE
 * /admin/clients/{id}`), which the dev IdP serves too; lib/adapters/oidc/inventory-client.ts.
 *
 * Hydra's admin API never returns a registration access token (it keeps only its hash) and has no
 * call that issues one for an existing client; its `PUT /admin/clients/{id}` clears the hash, so
 * after it every RFC 7592 call for that client answers 401. A client once repaired through here is
 * managed through here from then on (lib/admin/client-at-idp.ts).
 */
export interface IdpInventory {
  /** Every client the IdP holds that this service registered (tagged with our `software_id`), all pages. */
  list(): Promise<InventoryClient[]>;
  /**
   * Sets our metadata on the client by client_id (the IdP's other members are kept: read, then
   * replaced). With `newSecret`, a new client secret replaces the old one, which stops working at
   * once; it is returned once. A client the IdP does not have: IdpClientGoneError.
   */
  replace(clientId: string, metadata: ClientMetadata, options?: { newSecret?: boolean }): Promise<ClientMetadata & { client_secret?: string }>;
  /** Deletes by client_id, without its registration access token; a client already gone counts as deleted. */
  delete(clientId: string): Promise<void>;
}

/** RFC 7591 §3.2.2 and RFC 7592 error codes that may be shown to the caller as they are. */
export const EXPOSED_IDP_ERROR_CODES = [
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
] as const;
export type ExposedIdpErrorCode = (typeof EXPOSED_IDP_ERROR_CODES)[number] | 'invalid_request';

/**
 * The IdP refused the client metadata (the caller's input): a 400 like our own validation's,
 * carrying the RFC 7591 code in `error` (unknown codes become `invalid_request`).
 */
export class IdpRejectedError extends BadRequestError {
  readonly idpError: ExposedIdpErrorCode;
  constructor(idpError: string | undefined) {
    const known = (EXPOSED_IDP_ERROR_CODES as readonly string[]).includes(idpError ?? '');
    const code = (known ? idpError : 'invalid_request') as ExposedIdpErrorCode;
    super(known ? `The identity provider rejected the client metadata (${code}).` : 'The identity provider rejected the request.', [], { error: code });
    this.idpError = code;
  }
}

/** The IdP failed, timed out, or answered something unusable. Its details stay in the log. */
export class IdpUnavailableError extends AppError {
  readonly operation: string;
  constructor(operation: string, cause?: unknown) {
    super(502, 'idp-unavailable', 'Bad Gateway', 'The identity provider is unavailable or answered unexpectedly.', { cause });
    this.operation = operation;
  }
}

/**
 * RFC 7592 §2.1: the IdP refused the registration access token (401). The client may be gone, or
 * the token stale: oidc-provider, Keycloak and Hydra replace it on every RFC 7592 update, so an
 * update whose answer was lost leaves the row with a dead one. Only the admin API can tell the two
 * apart; the use cases do (lib/admin/client-at-idp.ts), so this never reaches a caller there.
 */
export class IdpTokenRejectedError extends AppError {
  readonly clientId: string;
  constructor(clientId: string) {
    super(502, 'idp-unavailable', 'Bad Gateway', 'The identity provider refused the client\'s registration access token.');
    this.clientId = clientId;
  }
}

/** The IdP no longer has the client (its admin API or RFC 7592 said 404). DB and IdP disagree. */
export class IdpClientGoneError extends AppError {
  constructor(clientId: string) {
    super(409, 'idp-client-gone', 'Conflict', `Client ${clientId} no longer exists in the identity provider.`);
  }
}
