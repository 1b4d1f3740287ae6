/**
 * The client functions' composition: the admin runtime plus the IdP adapter (RFC 7591/7592),
 * the sealer for registration access tokens and, for reconcile, the IdP's admin inventory.
 */
import type { ClientDeps, TokenSealer } from './admin/clients.js';
import type { IdpInventory } from './admin/idp-admin.js';
import { inventoryClient } from './adapters/rauth/inventory-client.js';
import { registrationClient } from './adapters/rauth/registration-client.js';
import { type AdminRuntime, adminRuntime } from './admin-runtime.js';
import { type Config, processEnv, requireClientProvisioning, requireIdpAdminApi } from './config.js';
import { open, seal, sealKey } from './crypto/sealed.js';
import type { Env } from './runtime.js';
import { startOrExplain } from './runtime.js';

export type ClientRuntime = AdminRuntime & ClientDeps;

let current: ClientRuntime | undefined;
let reconciling: (ClientRuntime & { inventory: IdpInventory }) | undefined;

export function clientRuntime(env: Env = processEnv()): ClientRuntime {
  current ??= startOrExplain(() => {
    const base = adminRuntime(env);
    const { issuer, registration, tokenKeys } = requireClientProvisioning(base.config);
    const idp = registrationClient({
      issuer,
      registrationEndpoint: registration.endpoint,
      softwareId: base.config.idp.softwareId,
      credentials: registrationCredentials(base.config),
      timeoutMs: base.config.idp.timeoutMs,
      maxResponseBytes: base.config.idp.maxResponseBytes,
      metrics: base.metrics,
      log: base.log,
    });
    return { ...base, idp, sealer: sealer(tokenKeys) };
  });
  return current;
}

/** The reconcile function additionally needs the IdP's admin API (RAUTH_ADMIN_API_URL). */
export function reconcileRuntime(env: Env = processEnv()): ClientRuntime & { inventory: IdpInventory } {
  reconciling ??= startOrExplain(() => {
    const base = clientRuntime(env);
    const inventory = inventoryClient({
      adminUrl: requireIdpAdminApi(base.config),
      softwareId: base.config.idp.softwareId,
      credentials: registrationCredentials(base.config),
      timeoutMs: base.config.idp.timeoutMs,
      maxResponseBytes: base.config.idp.maxResponseBytes,
      metrics: base.metrics,
      log: base.log,
    });
    return { ...base, inventory };
  });
  return reconciling;
}

/** Read again after the IdP answers 401 (issue #5 moves this to Secrets Manager). */
function registrationCredentials(config: Config) {
  return async () => ({ initialAccessToken: requireClientProvisioning(config).registration.initialAccessToken });
}

export function sealer(keys: ReadonlyArray<{ id: string; base64: string }>): TokenSealer {
  const all = keys.map((k) => sealKey(k.id, k.base64));
  return { seal: (token) => seal(token, all[0]!), open: (box) => open(box, all) };
}
