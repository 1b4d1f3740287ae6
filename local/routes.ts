/**
 * The HTTP routes the local front serves, mirroring serverless.yml: enrich-token, forward-auth
 * and every admin route of the route table, each built by its bundle's composition root as the
 * route's own Lambda function builds it. Handlers are imported lazily so the environment is in
 * place before a function's cold start reads it.
 */
import { ADMIN_ROUTES, type AdminOperation } from '../lib/admin/routes.js';
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

/** An admin operation's handler, as its function (functions/admin-api.ts or client-api.ts) builds it. */
export async function loadAdmin(operation: AdminOperation): Promise<LambdaHttpHandler> {
  return ADMIN_ROUTES[operation].bundle === 'clients'
    ? (await import('../lib/wiring/clients.js')).clientHandler(operation)
    : (await import('../lib/wiring/admin.js')).adminHandler(operation);
}

export async function loadRoutes(options: { admin: boolean }): Promise<Route[]> {
  const table: Array<{ method: string; path: string; build: () => Promise<LambdaHttpHandler> }> = [
    { method: 'POST', path: '/system/enrich-token', build: () => load('enrich-token') },
    ...(options.admin ? [{ method: 'GET', path: '/system/idp-health', build: () => load('idp-health') }] : []),
    // Like the admin routes, forward-auth verifies tokens against the IdP: served with them.
    ...(options.admin
      ? FORWARD_AUTH_METHODS.flatMap((method) => ['/system/forward-auth', '/system/forward-auth/{proxy+}'].map((path) => ({ method, path, build: () => load('forward-auth') })))
      : []),
    ...(options.admin
      ? (Object.keys(ADMIN_ROUTES) as AdminOperation[]).map((operation) => ({ ...ADMIN_ROUTES[operation], build: () => loadAdmin(operation) }))
      : []),
  ];
  // One at a time: jest's ESM loader fails on concurrent dynamic imports of shared modules.
  const routes: Route[] = [];
  for (const { method, path, build } of table) routes.push({ method, path, handler: await build() });
  return routes;
}
