/**
 * The HTTP routes the local front serves, mirroring serverless.yml. Handlers are imported
 * lazily so the environment is in place before a function's cold start reads it.
 */
import type { Route } from './http-front.js';

const table = [
  { method: 'POST', path: '/system/enrich-token', load: () => import('../functions/enrich-token.js') },
] as const;

export async function loadRoutes(): Promise<Route[]> {
  return Promise.all(
    table.map(async ({ method, path, load }) => ({ method, path, handler: (await load()).handler })),
  );
}
