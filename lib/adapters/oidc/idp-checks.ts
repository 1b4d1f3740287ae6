/**
 * The IdP health checks against a real R-Auth: OIDC discovery, its JWKS, a client-credentials
 * token for this service's own client (openid-client), and the registration endpoint answering.
 * Every call goes through the transport (deadline, byte cap, no redirects). Failures are counted
 * by the probe (lib/health/idp-health.ts), once per failed check, not here.
 */
import * as oidc from 'openid-client';
import { CheckFailed, type IdpCheck } from '../../health/idp-health.js';
import type { Source } from '../../secrets/credentials.js';
import { oidcDiscovery, type AdminClient, type OidcDiscovery } from './discovery.js';
import { idpTransport, type IdpTransport } from './transport.js';

export interface IdpChecksOptions {
  issuer: string;
  timeoutMs: number;
  /** Default 256 KiB. */
  maxResponseBytes?: number | undefined;
  fetch?: typeof fetch | undefined;
  /** The composition root's transport and discovery; built from the options above when absent. */
  transport?: IdpTransport | undefined;
  /** The probe discovers anew (`fresh`) each time: a cached document would hide an IdP that is down. */
  discovery?: OidcDiscovery | undefined;
  /** The service's own client; read again (`fresh`) once when the IdP refuses it. */
  adminClient: Source<AdminClient | undefined>;
  audience: string;
}

export function idpChecks(o: IdpChecksOptions): IdpCheck[] {
  // Counting is the probe's (one per failed check), so this transport counts nothing itself.
  const transport = o.transport ?? idpTransport({ timeoutMs: o.timeoutMs, maxResponseBytes: o.maxResponseBytes ?? 256 * 1024, fetch: o.fetch, metrics: { idpError: () => {} } });
  const options = { ...o, transport, discovery: o.discovery ?? oidcDiscovery({ issuer: o.issuer, transport, timeoutMs: o.timeoutMs }) };
  let discovered: oidc.ServerMetadata | undefined;

  const metadata = () => {
    if (!discovered) throw new CheckFailed('discovery failed');
    return discovered;
  };

  const get = async (url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) => {
    try {
      return await options.transport.fetch(url, { ...init, headers: { accept: 'application/json', ...init.headers } });
    } catch (error) {
      const timedOut = error instanceof Error && error.message === 'timed out';
      throw new CheckFailed(timedOut ? 'timeout' : 'unreachable');
    }
  };

  return [
    {
      name: 'discovery',
      component: 'identity',
      operation: 'discovery',
      async run() {
        discovered = undefined;
        await options.adminClient(); // an unreadable secret fails here as `unreachable`, as before
        try {
          discovered = await options.discovery.metadata({ fresh: true });
        } catch {
          throw new CheckFailed('discovery document unavailable or invalid');
        }
      },
    },
    {
      name: 'jwks',
      component: 'identity',
      operation: 'jwks',
      async run() {
        const uri = metadata().jwks_uri;
        if (!uri) throw new CheckFailed('no jwks_uri');
        const response = await get(uri);
        if (!response.ok) throw new CheckFailed(`HTTP ${response.status}`);
        const body = (await response.json().catch(() => undefined)) as { keys?: unknown[] } | undefined;
        if (!Array.isArray(body?.keys) || body.keys.length === 0) throw new CheckFailed('no signing keys');
      },
    },
    {
      name: 'token',
      component: 'identity',
      operation: 'token',
      async run() {
        metadata();
        const grant = async (client: AdminClient) => {
          try {
            await oidc.clientCredentialsGrant(await options.discovery.configuration(client), { resource: options.audience });
            return 'ok';
          } catch (error) {
            const status = (error as { status?: number }).status;
            if (status === 401 || status === 400) return 'refused';
            throw new CheckFailed('token endpoint unavailable');
          }
        };
        const used = await options.adminClient();
        if (!used) throw new CheckFailed('admin credentials not configured');
        if ((await grant(used)) === 'ok') return;
        // Rotated in the secret store? Read them again, once, before calling them refused.
        const fresh = await options.adminClient({ fresh: true });
        if (fresh && (fresh.id !== used.id || fresh.secret !== used.secret) && (await grant(fresh)) === 'ok') return;
        throw new CheckFailed('credentials refused');
      },
    },
    {
      name: 'registration',
      component: 'access-management',
      operation: 'registration',
      async run() {
        const endpoint = metadata().registration_endpoint;
        if (!endpoint) throw new CheckFailed('no registration_endpoint');
        // Unauthenticated, so it can register nothing: any answer short of a 5xx means the
        // client registry is up.
        const response = await get(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        if (response.status >= 500) throw new CheckFailed(`HTTP ${response.status}`);
      },
    },
  ];
}
