/**
 * The admin API's reads on a big tenant, in-process (worker.ts's `admin` case): the handlers the
 * local front serves for lib/admin/routes.ts (local/routes.ts) invoked with payload-2.0 events,
 * signed in as the platform admin with a client-credentials token from the dev IdP. One request
 * at a time, so p50 and p99 are a single caller's latency. Deep pages are reached by walking the
 * cursor from page 1. The explain and who-has routes are measured when the route table has them
 * (found by path at run time).
 */
import { randomBytes } from 'node:crypto';
import { buildHttpEvent, lambdaContext } from '../local/http-front.js';
import { drive } from './drive.js';
import { BENCH_ADMIN } from './seed.js';
import type { CaseResult } from './stats.js';
import { BIG_TENANT, bigSubjectName, PERMISSIONS, type Workload } from './workload.js';

export interface AdminReadResult extends CaseResult {
  name: string;
  /** A list page (the ≤ 50 ms target applies) rather than one object. */
  list: boolean;
  /** The request, e.g. `GET /tenants/bench-big/users?cursor=…` (cursor elided). */
  request: string;
  items: number | undefined;
}

interface Read {
  name: string;
  path: RegExp;
  params: (names: string[]) => Record<string, string>;
  /** The page to measure (1: no cursor). */
  page: number;
  list: boolean;
}

/** Deep pages: page 1,000 at the default 50 per page, if the list is that long; else its last. */
export const DEEP_PAGE = 1_000;

const READS: Read[] = [
  { name: 'users, page 1', path: /^\/tenants\/\{tenant\}\/users$/, params: () => ({ tenant: BIG_TENANT }), page: 1, list: true },
  { name: `users, page ${DEEP_PAGE}`, path: /^\/tenants\/\{tenant\}\/users$/, params: () => ({ tenant: BIG_TENANT }), page: DEEP_PAGE, list: true },
  { name: 'audit, page 1', path: /^\/audit$/, params: () => ({}), page: 1, list: true },
  { name: `audit, page ${DEEP_PAGE}`, path: /^\/audit$/, params: () => ({}), page: DEEP_PAGE, list: true },
  { name: 'tenant audit, page 1', path: /^\/tenants\/\{tenant\}\/audit$/, params: () => ({ tenant: BIG_TENANT }), page: 1, list: true },
  {
    name: 'explain (a user\'s access)', path: /^\/tenants\/\{tenant\}\/users\/\{\w+\}\/access$/, page: 1, list: false,
    params: ([tenant, subject]) => ({ [tenant!]: BIG_TENANT, [subject!]: '' }),
  },
  {
    name: 'who-has (a permission), page 1', path: /^\/tenants\/\{tenant\}\/permissions\/\{\w+\}\/subjects$/, page: 1, list: true,
    params: ([tenant, permission]) => ({ [tenant!]: BIG_TENANT, [permission!]: PERMISSIONS[0]! }),
  },
];

/** Which reads the routes serve today, each with its route and the path's parameter names. */
export function availableReads<R extends { method: string; path: string }>(routes: readonly R[]) {
  return READS.flatMap((read) => {
    const route = routes.find((r) => r.method === 'GET' && read.path.test(r.path));
    return route ? [{ read, route, names: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!) }] : [];
  });
}

export async function adminReads(w: Workload, seconds: number, warmupSeconds: number): Promise<AdminReadResult[]> {
  const { startDevIdp } = await import('../local/dev-idp.js');
  const idp = await startDevIdp({ adminSubject: BENCH_ADMIN });
  try {
    // What every admin function's configuration asks for (the client ones too: the local front
    // loads them all), as test/support/admin-stack.ts sets it.
    Object.assign(process.env, {
      RAUTH_URL: idp.issuer,
      ADMIN_TOKEN_AUDIENCE: idp.audience,
      RAUTH_ADMIN_CLIENT_ID: idp.admin.client_id,
      RAUTH_ADMIN_CLIENT_SECRET: idp.admin.client_secret,
      RAUTH_REGISTRATION_TOKEN: idp.initialAccessToken,
      RAUTH_ADMIN_API_URL: idp.adminApiUrl,
      CLIENT_TOKEN_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'error',
    });
    const { loadRoutes } = await import('../local/routes.js');
    const token = await idp.clientCredentialsToken(idp.admin);
    const results: AdminReadResult[] = [];
    for (const { read, route, names } of availableReads(await loadRoutes({ admin: true }))) {
      const { handler } = route;
      const params = read.params(names);
      // explain: a member of the big tenant (the `subject`-like parameter the route names).
      for (const [key, value] of Object.entries(params)) if (value === '') params[key] = bigSubjectName(w, 1);
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]!));
      const get = async (cursor: string | undefined) => {
        const url = new URL(`http://127.0.0.1${path}${cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`}`);
        const event = buildHttpEvent({ method: 'GET', url, routePath: route.path, params, headers: { authorization: `Bearer ${token}`, host: '127.0.0.1' } });
        const response = await handler(event, lambdaContext(route.path));
        if (response.statusCode !== 200) throw new Error(`${read.name}: ${response.statusCode} ${String(response.body).slice(0, 300)}`);
        return JSON.parse(response.body ?? '{}') as { items?: unknown[]; next_cursor?: string | null };
      };
      // Walk to the page (or to the last one, if the list is shorter).
      let cursor: string | undefined;
      let page = 1;
      for (; page < read.page; page += 1) {
        const next = (await get(cursor)).next_cursor;
        if (!next) break;
        cursor = next;
      }
      const first = await get(cursor);
      await drive(warmupSeconds, 1, () => cursor, async (c) => void (await get(c)));
      const result = await drive(seconds, 1, () => cursor, async (c) => void (await get(c)));
      results.push({
        ...result,
        name: page === read.page ? read.name : `${read.name} (the list ends at page ${page})`,
        list: read.list,
        request: `GET ${path}${cursor === undefined ? '' : '?cursor=…'}`,
        items: first.items?.length,
      });
    }
    return results;
  } finally {
    await idp.stop();
  }
}
