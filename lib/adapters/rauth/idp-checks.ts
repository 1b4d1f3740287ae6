/**
 * The IdP health checks against a real R-Auth: OIDC discovery, its JWKS, a client-credentials
 * token for this service's own client (openid-client), and the registration endpoint answering.
 * Every call is bounded by the IdP timeout and reads at most a small body.
 */
import * as oidc from 'openid-client';
import { CheckFailed, type IdpCheck } from '../../health/idp-health.js';
import type { Source } from '../../secrets/credentials.js';
import { readCapped } from './bounded-response.js';

export interface IdpChecksOptions {
  issuer: string;
  /** The service's own client; read again (`fresh`) once when the IdP refuses it. */
  adminClient: Source<{ id: string; secret: string } | undefined>;
  audience: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

const MAX_BYTES = 256 * 1024;
const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

export function idpChecks(options: IdpChecksOptions): IdpCheck[] {
  const doFetch = options.fetch ?? fetch;
  const issuer = new URL(options.issuer);
  const insecure = issuer.protocol === 'http:' && LOOPBACK.includes(issuer.hostname);
  const bounded = async (url: string, init: RequestInit): Promise<Response> => {
    const response = await doFetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' });
    return new Response(new Uint8Array(await readCapped(response, MAX_BYTES)), { status: response.status, headers: response.headers });
  };
  let configuration: oidc.Configuration | undefined;

  const discover = async (admin: { id: string; secret: string } | undefined) => {
    configuration = undefined;
    try {
      configuration = await oidc.discovery(issuer, admin?.id ?? 'iam-service', undefined, admin ? oidc.ClientSecretBasic(admin.secret) : undefined, {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        [oidc.customFetch]: (url, init) => bounded(url, init as RequestInit),
      });
    } catch {
      throw new CheckFailed('discovery document unavailable or invalid');
    }
  };

  const discovered = () => {
    if (!configuration) throw new CheckFailed('discovery failed');
    return configuration;
  };

  const get = async (url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) => {
    try {
      return await bounded(url, { ...init, headers: { accept: 'application/json', ...init.headers } });
    } catch (error) {
      throw new CheckFailed(error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'unreachable');
    }
  };

  return [
    {
      name: 'discovery',
      component: 'identity',
      operation: 'discovery',
      async run() {
        await discover(await options.adminClient());
      },
    },
    {
      name: 'jwks',
      component: 'identity',
      operation: 'jwks',
      async run() {
        const uri = discovered().serverMetadata().jwks_uri;
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
        const grant = async () => {
          try {
            await oidc.clientCredentialsGrant(discovered(), { resource: options.audience });
            return 'ok';
          } catch (error) {
            if (error instanceof CheckFailed) throw error;
            const status = (error as { status?: number }).status;
            if (status === 401 || status === 400) return 'refused';
            throw new CheckFailed('token endpoint unavailable');
          }
        };
        const used = await options.adminClient();
        if (!used) throw new CheckFailed('admin credentials not configured');
        if ((await grant()) === 'ok') return;
        // Rotated in the secret store? Read them again, once, before calling them refused.
        const fresh = await options.adminClient({ fresh: true });
        if (fresh && (fresh.id !== used.id || fresh.secret !== used.secret)) {
          await discover(fresh);
          if ((await grant()) === 'ok') return;
        }
        throw new CheckFailed('credentials refused');
      },
    },
    {
      name: 'registration',
      component: 'access-management',
      operation: 'registration',
      async run() {
        const endpoint = discovered().serverMetadata().registration_endpoint;
        if (!endpoint) throw new CheckFailed('no registration_endpoint');
        // Unauthenticated, so it can register nothing: any answer short of a 5xx means the
        // client registry is up.
        const response = await get(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        if (response.status >= 500) throw new CheckFailed(`HTTP ${response.status}`);
      },
    },
  ];
}
