/**
 * The HTTP routes the local front serves, mirroring serverless.yml: enrich-token plus every
 * admin route of the route table. Handlers are imported lazily so the environment is in
 * place before a function's cold start reads it.
 */
import { ADMIN_ROUTES } from '../lib/admin/routes.js';
import type { LambdaHttpHandler } from '../lib/http/stack.js';
import type { Route } from './http-front.js';

const load = async (file: string): Promise<LambdaHttpHandler> =>
  ((await import(`../functions/${file}.js`)) as { handler: LambdaHttpHandler }).handler;

export async function loadRoutes(options: { admin: boolean }): Promise<Route[]> {
  const table = [
    { method: 'POST', path: '/system/enrich-token', file: 'enrich-token' },
    ...(options.admin ? [{ method: 'GET', path: '/system/idp-health', file: 'idp-health' }] : []),
    ...(options.admin ? Object.values(ADMIN_ROUTES) : []),
  ];
  // One at a time: jest's ESM loader fails on concurrent dynamic imports of shared modules.
  const routes: Route[] = [];
  for (const { method, path, file } of table) routes.push({ method, path, handler: await load(file) });
  return routes;
}
