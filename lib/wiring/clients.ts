/**
 * The client functions' composition: the admin runtime plus the IdP adapter (RFC 7591/7592),
 * the IdP's admin API (reconcile's inventory, and the way back to a client whose registration
 * access token went stale) and the sealer for registration access tokens.
 * The registration token and the sealing keys come from the credential sources (Secrets
 * Manager in AWS), read again when the IdP refuses the token.
 */
import type { ClientDeps, TokenSealer } from '../admin/clients.js';
import type { IdpHttpOptions } from '../adapters/rauth/idp-http.js';
import { inventoryClient } from '../adapters/rauth/inventory-client.js';
import { registrationClient } from '../adapters/rauth/registration-client.js';
import { type AdminRuntime, adminRuntime } from './admin.js';
import { processEnv, requireClientProvisioning, requireIdpAdminApi } from '../config.js';
import { open, seal, sealKey } from '../crypto/sealed.js';
import { ConfigError } from '../errors.js';
import type { Env } from './base.js';
import { startOrExplain } from './base.js';
import type { SealKeyText, Source } from '../secrets/credentials.js';
import { SecretUnavailableError } from '../secrets/secret-store.js';

export type ClientRuntime = AdminRuntime & ClientDeps;

let current: ClientRuntime | undefined;

export function clientRuntime(env: Env = processEnv()): ClientRuntime {
  current ??= startOrExplain(() => {
    const base = adminRuntime(env);
    const { idp } = base.config;
    const client = registrationClient({
      ...idpCalls(base),
      issuer: requireClientProvisioning(base.config),
      registrationEndpoint: idp.registrationEndpoint,
      softwareId: idp.softwareId,
    });
    const inventory = inventoryClient({ ...idpCalls(base), adminUrl: requireIdpAdminApi(base.config), softwareId: idp.softwareId });
    return { ...base, idp: client, inventory, sealer: sealer(base.credentials.clientTokenKeys) };
  });
  return current;
}

/** The reconcile function's composition: the client functions' (it needs the same parts). */
export const reconcileRuntime = (env: Env = processEnv()): ClientRuntime => clientRuntime(env);

/** What every call to R-Auth's client APIs shares: bounds, counting, and the registration token. */
function idpCalls({ config, credentials, metrics, log }: AdminRuntime): IdpHttpOptions {
  return {
    // The initial access token; `fresh` after the IdP answered 401 (rotated in Secrets Manager).
    credentials: async (options) => {
      const { registrationToken: token } = await credentials.idp(options);
      if (!token) throw new SecretUnavailableError(config.secrets.ids.idp ?? 'RAUTH_REGISTRATION_TOKEN', 'no registration_token in it');
      return { initialAccessToken: token };
    },
    timeoutMs: config.idp.timeoutMs,
    maxResponseBytes: config.idp.maxResponseBytes,
    metrics,
    log,
  };
}

/** Seals with the first key, opens with any (so a new key can be put first without breaking old rows). */
export function sealer(keys: Source<readonly SealKeyText[] | undefined>): TokenSealer {
  const loaded = async (fresh = false) => {
    const texts = await keys({ fresh });
    if (!texts?.length) throw new ConfigError([{ path: 'CLIENT_TOKEN_KEYS', message: 'names no key' }]);
    return texts.map((k) => sealKey(k.id, k.base64));
  };
  return {
    seal: async (token) => seal(token, (await loaded())[0]!),
    async open(box) {
      try {
        return open(box, await loaded());
      } catch {
        return open(box, await loaded(true)); // sealed under a key added since we last read them
      }
    },
  };
}
