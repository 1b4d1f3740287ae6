/**
 * The bearer token that authorizes RFC 7591 registration (and the IdP's admin API), in one of
 * two ways, as DESIGN.md allows per IdP:
 * - `initial-access-token`: a static token kept in the secret (Keycloak's initial access tokens,
 *   oidc-provider's `features.registration.initialAccessToken`);
 * - `client-credentials`: an access token this service obtains for its own admin client by the
 *   client-credentials grant (openid-client's `clientCredentialsGrant`), with the scope and
 *   resource the IdP asks for (Keycloak: a service account holding `create-client`). It is kept
 *   until shortly before it expires; `fresh` (after the IdP answered 401) re-reads the admin
 *   client from the secret store and asks for a new one.
 * A refused or failed grant is IdP trouble, counted as `token`.
 */
import * as oidc from 'openid-client';
import type { Logger } from '../../observability/logger.js';
import type { AdminClient, OidcDiscovery } from './discovery.js';
import type { RegistrationCredentials } from './registration-client.js';
import { Trouble, type IdpOperation, type IdpTransport } from './transport.js';

export interface ClientCredentialsOptions {
  discovery: OidcDiscovery;
  transport: IdpTransport;
  /** The service's own client; `fresh` re-reads it from the secret store. */
  adminClient: (options?: { fresh?: boolean }) => Promise<AdminClient | undefined>;
  scope?: string | undefined;
  /** RFC 8707 `resource` to ask the token for. */
  resource?: string | undefined;
  /** What `adminClient` is read from, to name it when it is empty (never its value). */
  missing: () => Error;
}

/** A token is not used in its last seconds: it may expire on the way. */
const EXPIRY_MARGIN_MS = 30_000;

export function clientCredentialsRegistration(options: ClientCredentialsOptions): RegistrationCredentials {
  let held: { token: string; until: number } | undefined;

  async function grant(fresh: boolean): Promise<{ token: string; until: number }> {
    const client = await options.adminClient({ fresh });
    if (!client) throw options.missing();
    const configuration = await options.discovery.configuration(client);
    const parameters: Record<string, string> = {
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.resource ? { resource: options.resource } : {}),
    };
    try {
      const tokens = await oidc.clientCredentialsGrant(configuration, parameters);
      const lifetime = typeof tokens.expires_in === 'number' ? tokens.expires_in * 1000 : 60_000;
      return { token: tokens.access_token, until: Date.now() + Math.max(0, lifetime - EXPIRY_MARGIN_MS) };
    } catch (cause) {
      throw new Trouble('client-credentials grant failed', (cause as { status?: number }).status, { cause });
    }
  }

  /** The admin client refused (400 invalid_client, 401): read it again once, it may have been rotated. */
  const refused = (error: unknown) => error instanceof Trouble && (error.status === 400 || error.status === 401);

  return async (request) => {
    const fresh = request?.fresh === true;
    if (!fresh && held && held.until > Date.now()) return { initialAccessToken: held.token };
    const granted = await options.transport.guarded('token', () =>
      grant(fresh).catch((error: unknown) => (!fresh && refused(error) ? grant(true) : Promise.reject(error))),
    );
    held = granted;
    return { initialAccessToken: granted.token };
  };
}

/**
 * One call authorized by the registration credential: after a 401 the credential is read again
 * (rotated in the secret store, or a token that expired early) and the call made once more; a
 * second 401 is IdP trouble.
 */
export async function withRegistrationCredential<T extends { status: number }>(
  credentials: RegistrationCredentials,
  log: Logger | undefined,
  operation: IdpOperation,
  call: (token: string) => Promise<T>,
): Promise<T> {
  const answer = await call((await credentials()).initialAccessToken);
  if (answer.status !== 401) return answer;
  log?.info('IdP refused the initial access token; reading it again', { operation });
  const again = await call((await credentials({ fresh: true })).initialAccessToken);
  if (again.status === 401) throw new Trouble('IdP refused the initial access token', 401);
  return again;
}
