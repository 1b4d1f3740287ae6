/**
 * The HTTP routes the local front serves, mirroring serverless.yml: enrich-token, forward-auth
 * and every admin route of the route table. Handlers are imported lazily so the environment is
 * in place before a function's cold start reads it.
 */
import { ADMIN_ROUTES } from '../lib/admin/routes.js';
import type { LambdaHttpHandler } from '../lib/http/stack.js';
import type { Route } from './http-front.js';

/**
 * forward-auth answers whatever method the gateway sends (nginx and Traefik: GET; Envoy: the
 * client's). The front matches one method per route, so it gets one route per method, on both
 * of serverless.yml's paths: `/system/forward-auth` and `/system/forward-auth/{proxy+}` (a trailing
 * slash, Envoy's `path_prefix` + the client's path).
 */
const FORWARD_AUTH_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A function's handler (`functions/<file>.ts`), imported once. */
export const load = async (file: string): Promise<LambdaHttpHandler> =>
  ((await import(`../functions/${file}.js`)) as { handler: LambdaHttpHandler }).handler;

export async function loadRoutes(options: { admin: boolean }): Promise<Route[]> {
  const table = [
    { method: 'POST', path: '/system/enrich-token', file: 'enrich-token' },
    ...(options.admin ? [{ method: 'GET', path: '/system/idp-health', file: 'idp-health' }] : []),
    // Like the admin routes, forward-auth verifies tokens against the IdP: served with them.
    ...(options.admin
      ? FORWARD_AUTH_METHODS.flatMap((method) => ['/system/forward-auth', '/system/forward-auth/{proxy+}'].map((path) => ({ method, path, file: 'forward-auth' })))
      : []),
    ...(options.admin ? Object.values(ADMIN_ROUTES) : []),
  ];
  // One at a time: jest's ESM loader fails on concurrent dynamic imports of shared modules.
  const routes: Route[] = [];
  for (const { method, path, file } of table) routes.push({ method, path, handler: await load(file) });
  return routes;
}
