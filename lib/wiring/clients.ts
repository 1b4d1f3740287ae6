/**
 * The client functions' composition: the admin runtime plus the IdP adapter (RFC 7591/7592),
 * the IdP's admin API (reconcile's inventory, and the way back to a client whose registration
 * access token went stale) and the sealer for registration access tokens.
 * The registration credential (a static initial access token, or one obtained by the
 * client-credentials grant: RAUTH_REGISTRATION_CREDENTIAL) and the sealing keys come from the
 * credential sources (Secrets Manager in AWS), read again when the IdP refuses them.
 */
import type { ClientDeps } from '../admin/clients.js';
import { inventoryClient } from '../adapters/oidc/inventory-client.js';
import { registrationClient, type IdpHttpOptions, type RegistrationCredentials } from '../adapters/oidc/registration-client.js';
import { clientCredentialsRegistration } from '../adapters/oidc/registration-credential.js';
import { type AdminRuntime, adminRuntime, routeOf } from './admin.js';
import type { LambdaHttpHandler } from '../http/stack.js';
import { processEnv, requireClientProvisioning, requireIdpAdminApi } from '../config.js';
import { tokenSealer } from '../crypto/token-sealer.js';
import { type Env, runtime, startOrExplain } from './base.js';
import { SecretUnavailableError } from '../secrets/ports.js';
import { type IdpConnection, idpConnection } from './idp.js';

export type ClientRuntime = AdminRuntime & ClientDeps;

let current: ClientRuntime | undefined;

export function clientRuntime(env: Env = processEnv()): ClientRuntime {
  current ??= startOrExplain(() => {
    const base = adminRuntime(env);
    const { idp } = base.config;
    const issuer = requireClientProvisioning(base.config);
    const calls = idpCalls(base, idpConnection(base, issuer));
    const client = registrationClient({ ...calls, issuer, registrationEndpoint: idp.registrationEndpoint, softwareId: idp.softwareId });
    const inventory = inventoryClient({ ...calls, adminUrl: requireIdpAdminApi(base.config), softwareId: idp.softwareId });
    return { ...base, idp: client, inventory, sealer: tokenSealer(base.credentials.clientTokenKeys) };
  });
  return current;
}

/** The client bundle's handler of `operation` (by default the function's ADMIN_OPERATION): the operations that call the IdP. */
export function clientHandler(operation?: string, env: Env = processEnv()): LambdaHttpHandler {
  const route = routeOf(runtime(env).config, 'clients', operation);
  return route.serve(clientRuntime(env), route.operation);
}

/** The reconcile function's composition: the client functions' (it needs the same parts). */
export const reconcileRuntime = (env: Env = processEnv()): ClientRuntime => clientRuntime(env);

/** What every call to R-Auth's client APIs shares: the one transport and discovery, and the registration credential. */
function idpCalls(base: AdminRuntime, connection: IdpConnection): IdpHttpOptions & IdpConnection {
  const { config, metrics, log } = base;
  return {
    ...connection,
    credentials: registrationCredentials(base, connection),
    timeoutMs: config.idp.timeoutMs,
    maxResponseBytes: config.idp.maxResponseBytes,
    metrics,
    log,
  };
}

/** RAUTH_REGISTRATION_CREDENTIAL; `fresh` after the IdP answered 401 (rotated in Secrets Manager). */
function registrationCredentials({ config, credentials }: AdminRuntime, { discovery, transport }: IdpConnection): RegistrationCredentials {
  const secretId = config.secrets.ids.idp;
  if (config.idp.registrationCredential === 'client-credentials') {
    return clientCredentialsRegistration({
      discovery,
      transport,
      adminClient: async (options) => (await credentials.idp(options)).adminClient,
      scope: config.idp.registrationScope,
      resource: config.idp.registrationResource,
      missing: () => new SecretUnavailableError(secretId ?? 'RAUTH_ADMIN_CLIENT_ID', 'no admin_client_id and admin_client_secret in it'),
    });
  }
  return async (options) => {
    const { registrationToken: token } = await credentials.idp(options);
    if (!token) throw new SecretUnavailableError(secretId ?? 'RAUTH_REGISTRATION_TOKEN', 'no registration_token in it');
    return { initialAccessToken: token };
  };
}
