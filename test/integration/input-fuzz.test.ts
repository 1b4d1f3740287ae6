/**
 * Bounded input, fuzzed: 1,000 generated requests per route family (enrich-token in each of its
 * three dialects, tenants, roles, users, clients, access explained and who-has, audit, and
 * GET /me with the bearer token itself fuzzed), invoked in-process on the real handlers
 * (real PostgreSQL, real dev-IdP tokens). The inputs lean on what used to break or slip through:
 * nesting thousands deep (also followed by a NUL), invisible and bidi characters, lone
 * surrogates, huge numbers, duplicate keys, NULs, in bodies, path parameters and query strings.
 * Whatever comes in: no 5xx, and every 4xx is application/problem+json with a detail.
 * FUZZ_REPORT=<file> writes the status counts per family there.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ADMIN_ROUTES, type AdminOperation } from '../../lib/admin/routes.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { buildHttpEvent, lambdaContext } from '../../local/http-front.js';
import { load, loadAdmin } from '../../local/routes.js';
import { type AdminStack, ENRICH_KEY, type Persona, startAdminStack } from '../support/admin-stack.js';

const RUNS = 1_000;
const FIXTURE_TENANTS = ['acme', 'globex', 'platform'];

// ---- text -------------------------------------------------------------------------------------

/** Cc, Cf, Zl, Zp and lone surrogates: what the text rule refuses. */
const INVISIBLE = ['\u0000', '\u0001', '\t', '\n', '\u001f', '\u007f', '\u0085', '\u00ad', '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u202a', '\u202e', '\u2060', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff', '\u2028', '\u2029', '\u{e0041}'];
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', '\ude00\ud83d'];

const sprinkled = fc
  .tuple(fc.constantFrom('acme-user', 'acme', 'viewer', 'admin', '', 'Zoë'), fc.constantFrom(...INVISIBLE, ...LONE_SURROGATES), fc.nat(12))
  .map(([base, ch, at]) => base.slice(0, at) + ch + base.slice(at));

const text = fc.oneof(
  { weight: 4, arbitrary: sprinkled },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('acme-user', 'globex-admin', 'acme', 'globex', 'viewer', 'docs:read', 'fz-tenant', 'Fuzzed name', '山田', '😀', '') },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 3_000 }).map((n) => 'a'.repeat(n)) },
);

// ---- raw JSON ---------------------------------------------------------------------------------

/** Nesting `depth` deep, arrays or objects, optionally followed (inside) by a NUL or garbage. */
const nested = fc.tuple(fc.integer({ min: 20, max: 6_000 }), fc.boolean(), fc.constantFrom('', '"\\u0000"', '\u0000', '1', 'x')).map(([depth, arrays, inner]) =>
  arrays ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${inner || '1'}${'}'.repeat(depth)}`,
);

const HUGE_NUMBERS = ['1e999', '-1e999', '123456789012345678901234567890', '1e-400', '-0', '9007199254740993', '0.000000000000000000001', '1E+308'];

/** A JSON value as text, including what JSON.stringify cannot write (1e999, raw NULs, lone surrogate escapes). */
const rawValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: text.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_NUMBERS, 'true', 'null', '[]', '{}', '""', '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"\\udfff\\ud800"', '"\\u202e"') },
  { weight: 2, arbitrary: nested },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 2, arbitrary: fc.array(text, { maxLength: 5 }).map((a) => JSON.stringify(a)) },
);

const objectText = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/**
 * A body text from a valid one (entries of raw values): as it is, with fields replaced, doubled
 * (duplicate keys) or added, or replaced whole by nesting, garbage or any JSON.
 */
function bodyFrom(base: [string, string][], fieldValues: Record<string, fc.Arbitrary<string>> = {}): fc.Arbitrary<string> {
  const keys = base.map(([k]) => k);
  const valueFor = (k: string) => (fieldValues[k] ? fc.oneof({ weight: 2, arbitrary: fieldValues[k]! }, { weight: 3, arbitrary: rawValue }) : rawValue);
  const change = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant('set' as const), fc.constant(k), valueFor(k))) },
    { weight: 2, arbitrary: fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant('duplicate' as const), fc.constant(k), valueFor(k))) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('add' as const), fc.oneof(text, fc.constantFrom('__proto__', 'constructor', 'id', 'tenant_id')), rawValue) },
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(objectText(base)) },
    {
      weight: 12,
      arbitrary: fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => {
        const entries = [...base];
        for (const [kind, key, value] of changes) {
          const at = entries.findIndex(([k]) => k === key);
          if (kind === 'set' && at >= 0) entries[at] = [key, value];
          else entries.push([key, value]);
        }
        return objectText(entries);
      }),
    },
    { weight: 2, arbitrary: nested },
    { weight: 1, arbitrary: fc.oneof(nested.map((n) => `${n}\u0000`), nested.map((n) => `${n}\\u0000`), fc.constantFrom('', '{', '{"a":', 'null', '[]', '"x"', '1e999', '{"a":1}}')) },
  );
}

const str = (...values: string[]) => fc.constantFrom(...values.map((v) => JSON.stringify(v)));

// ---- requests ---------------------------------------------------------------------------------

interface FuzzRequest {
  /** An admin operation, or enrich-token. */
  route: AdminOperation | 'enrichToken';
  persona?: Persona;
  /** The Authorization header as sent, instead of the persona's. */
  authorization?: string;
  params?: Record<string, string>;
  query?: string;
  body?: string;
}

const param = (...known: string[]) => fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...known) }, { weight: 3, arbitrary: text });
const persona = fc.constantFrom<Persona>('platformAdmin', 'platformAdmin', 'platformAdmin', 'tenantAdmin', 'user');
const queryText = fc
  .array(fc.tuple(fc.constantFrom('limit', 'cursor', 'x', '__proto__'), fc.oneof(text, fc.constantFrom('1', '100', '101', '0', '-1', '1e999', '99999999999999999999', 'eyJrIjoiXHUwMDAwIn0', 'eyJrIjoiMSJ9'))), { maxLength: 3 })
  .map((pairs) => new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v.replace(/[\ud800-\udfff]/g, '\ufffd')])).toString());

const op = <O extends AdminOperation>(route: O, shape: Omit<FuzzRequest, 'route'>) => ({ route, ...shape });

const roleNames = fc.array(fc.oneof(str('viewer', 'tenant-admin'), rawValue), { maxLength: 4 }).map((a) => `[${a.join(',')}]`);
const slugs = fc.oneof(str('fz-a', 'fz-b', 'fz-c'), fc.stringMatching(/^[a-z0-9-]{2,12}$/).map((s) => JSON.stringify(`fz-${s}`)));

const FAMILIES: Record<string, fc.Arbitrary<FuzzRequest>> = {
  'enrich-token (native)': bodyFrom(
    [['subject', '"acme-user"'], ['tenant', '"acme"'], ['client_id', '"acme-user"']],
    { subject: str('acme-user', 'globex-admin', 'acme-admin', 'nobody'), tenant: str('acme', 'globex', 'platform', 'nope') },
  ).map((body) => ({ route: 'enrichToken', body })),
  'enrich-token (Hydra)': fc
    .record({ subject: fc.oneof(str('acme-user', 'nobody'), rawValue), tenant: fc.oneof(str('acme', 'globex'), rawValue), client: fc.oneof(str('acme-user'), rawValue), extra: rawValue })
    .chain(({ subject, tenant, client, extra }) =>
      bodyFrom(
        [
          ['session', `{"id_token":{"subject":${subject}},"extra":{"tenant":${tenant},"more":${extra}}}`],
          ['request', `{"client_id":${client},"granted_scopes":["openid"],"payload":{"tenant":${tenant}}}`],
        ],
      ),
    )
    .map((body) => ({ route: 'enrichToken', body })),
  'enrich-token (Oathkeeper)': fc
    .record({ subject: fc.oneof(str('', '', 'acme-user', 'nobody'), rawValue), extra: fc.oneof(str('x'), rawValue), header: rawValue, url: rawValue })
    .chain(({ subject, extra, header, url }) =>
      bodyFrom([
        ['subject', subject],
        ['extra', `{"tenant":"acme","echo":${extra}}`],
        ['header', `{"X-Forwarded":${header}}`],
        ['match_context', `{"url":${url},"method":"GET"}`],
      ]),
    )
    .map((body) => ({ route: 'enrichToken', body })),
  tenants: fc.oneof(
    fc.tuple(persona, bodyFrom([['slug', '"fz-tenant"'], ['name', '"Fuzzed"'], ['status', '"active"']], { slug: slugs })).map(([p, body]) => op('createTenant', { persona: p, body })),
    fc
      .tuple(persona, param('acme', 'globex', 'fz-a'), bodyFrom([['name', '"Renamed"'], ['status', '"active"']], { status: str('active', 'suspended') }))
      .map(([p, tenant, body]) => op('updateTenant', { persona: p, params: { tenant }, body })),
    fc.tuple(persona, param('acme', 'globex', 'fz-a')).map(([p, tenant]) => op('getTenant', { persona: p, params: { tenant } })),
    fc.tuple(persona, param('fz-a', 'fz-b')).map(([p, tenant]) => op('deleteTenant', { persona: p, params: { tenant: FIXTURE_TENANTS.includes(tenant) ? 'fz-c' : tenant } })),
    fc.tuple(persona, queryText).map(([p, query]) => op('listTenants', { persona: p, query })),
  ),
  roles: fc.oneof(
    fc
      .tuple(persona, param('acme', 'globex'), bodyFrom([['name', '"fz-role"'], ['description', '"fuzzed"'], ['permissions', '["docs:read"]']], { name: str('fz-role', 'fz-2', 'viewer') }))
      .map(([p, tenant, body]) => op('createRole', { persona: p, params: { tenant }, body })),
    fc
      .tuple(persona, param('acme'), param('fz-role', 'viewer'), bodyFrom([['description', '"changed"'], ['permissions', '["docs:read"]']]))
      .map(([p, tenant, role, body]) => op('updateRole', { persona: p, params: { tenant, role }, body })),
    fc.tuple(persona, param('acme'), param('fz-role', 'fz-2')).map(([p, tenant, role]) => op('deleteRole', { persona: p, params: { tenant, role } })),
    fc.tuple(persona, param('acme'), param('viewer')).map(([p, tenant, role]) => op('getRole', { persona: p, params: { tenant, role } })),
    fc.tuple(persona, param('acme', 'globex'), queryText).map(([p, tenant, query]) => op('listRoles', { persona: p, params: { tenant }, query })),
  ),
  users: fc.oneof(
    fc
      .tuple(persona, param('acme'), param('fz-user', 'fz-user-2'), bodyFrom([['roles', '["viewer"]']], { roles: roleNames }))
      .map(([p, tenant, subject, body]) => op('putUser', { persona: p, params: { tenant, subject }, body })),
    fc.tuple(persona, param('acme'), param('fz-user', 'acme-user')).map(([p, tenant, subject]) => op('getUser', { persona: p, params: { tenant, subject } })),
    fc.tuple(persona, param('acme'), param('fz-user', 'fz-user-2')).map(([p, tenant, subject]) => op('deleteUser', { persona: p, params: { tenant, subject } })),
    fc.tuple(persona, param('acme', 'globex'), queryText).map(([p, tenant, query]) => op('listUsers', { persona: p, params: { tenant }, query })),
  ),
  clients: fc.oneof(
    fc
      // Mostly refused before the IdP: a valid create registers a client there (slower).
      .tuple(persona, param('acme'), bodyFrom([['client_name', '"Fuzzed client"'], ['scope', '""'], ['roles', '[]']], { roles: roleNames }))
      .map(([p, tenant, body]) => op('createClient', { persona: p, params: { tenant }, body })),
    fc
      .tuple(persona, param('acme'), text, bodyFrom([['client_name', '"Renamed client"'], ['roles', '[]']]))
      .map(([p, tenant, client, body]) => op('updateClient', { persona: p, params: { tenant, client }, body })),
    fc.tuple(persona, param('acme'), text).map(([p, tenant, client]) => op('getClient', { persona: p, params: { tenant, client } })),
    fc.tuple(persona, param('acme', 'globex'), queryText).map(([p, tenant, query]) => op('listClients', { persona: p, params: { tenant }, query })),
  ),
  // Access explained and who-has: permissions (wildcards, traversal, encoded junk) in the path.
  access: fc.oneof(
    fc.tuple(persona, param('acme', 'globex'), param('acme-user', 'fz-user', '../globex'), queryText).map(([p, tenant, subject, query]) =>
      op('explainUser', { persona: p, params: { tenant, subject }, query }),
    ),
    fc.tuple(persona, param('acme', 'globex'), text).map(([p, tenant, client]) => op('explainClient', { persona: p, params: { tenant, client } })),
    fc
      .tuple(persona, param('acme', 'globex'), param('iam:*', '*', 'docs:read', 'docs:*', '../../audit', 'a%2Fb', '%00', ':*', 'x'.repeat(200)), queryText)
      .map(([p, tenant, permission, query]) => op('whoHas', { persona: p, params: { tenant, permission }, query })),
  ),
  // Who am I: the only route any token may call, so the token is what gets fuzzed, JWT-shaped or not.
  me: fc.oneof(
    fc.tuple(persona, queryText).map(([p, query]) => op('whoAmI', { persona: p, query })),
    fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'Basic ', 'Bearer  ', ''), text).map(([scheme, token]) => op('whoAmI', { authorization: scheme + token })),
    fc
      .tuple(rawValue, rawValue, text, fc.constantFrom('', '.', '..x'))
      .map(([header, payload, signature, tail]) => [header, payload, signature].map((part) => Buffer.from(part).toString('base64url')).join('.') + tail)
      .map((token) => op('whoAmI', { authorization: `Bearer ${token}` })),
  ),
  audit: fc.oneof(
    fc.tuple(persona, param('acme', 'globex'), queryText).map(([p, tenant, query]) => op('listTenantAudit', { persona: p, params: { tenant }, query })),
    fc.tuple(persona, queryText).map(([p, query]) => op('listAudit', { persona: p, query })),
  ),
};

// ---- the check --------------------------------------------------------------------------------

const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

describe('every route family under hostile input', () => {
  let stack: AdminStack;
  const handlers = new Map<string, LambdaHttpHandler>();
  const report: Record<string, Record<string, number>> = {};

  async function send(req: FuzzRequest): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const route = req.route === 'enrichToken' ? { method: 'POST', path: '/system/enrich-token' } : ADMIN_ROUTES[req.route];
    const params = req.params ?? {};
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(wellFormed(params[name] ?? '')));
    const headers: Record<string, string> = {
      ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(req.route === 'enrichToken'
        ? { 'x-api-key': ENRICH_KEY }
        : req.authorization !== undefined
          ? { authorization: req.authorization }
          : stack.headers(req.persona ?? 'platformAdmin')),
      ...(route.method === 'PATCH' ? { 'if-match': '*' } : {}),
    };
    // The path parameters reach the function as sent (lone surrogates included), as a front that decodes them would pass them on.
    const event = buildHttpEvent({ method: route.method, url: new URL(`https://local${path}${req.query ? `?${req.query}` : ''}`), routePath: route.path, params, headers, body: req.body });
    const handler = handlers.get(req.route)!;
    const response = await handler(event, lambdaContext(route.path));
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  beforeAll(async () => {
    stack = await startAdminStack();
    handlers.set('enrichToken', await load('enrich-token'));
    for (const operation of Object.keys(ADMIN_ROUTES) as AdminOperation[]) handlers.set(operation, await loadAdmin(operation));
  }, 60_000);
  afterAll(async () => {
    if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(report, null, 2));
    await stack?.stop();
  });

  it.each(Object.keys(FAMILIES))('answers %s without a 5xx, and every 4xx as a problem with a detail', async (family) => {
    const counts: Record<string, number> = {};
    report[family] = counts;
    await fc.assert(
      fc.asyncProperty(FAMILIES[family]!, async (req) => {
        const answer = await send(req);
        counts[answer.status] = (counts[answer.status] ?? 0) + 1;
        const what = `${req.route} ${JSON.stringify(req.params ?? {})} ${req.query ?? ''} ${String(req.body).slice(0, 300)} → ${answer.status} ${answer.body.slice(0, 300)}`;
        if (answer.status >= 500) throw new Error(`a 5xx: ${what}`);
        if (answer.status >= 400) {
          if (answer.headers['content-type'] !== 'application/problem+json') throw new Error(`a 4xx that is not a problem: ${what}`);
          const problem = JSON.parse(answer.body) as { detail?: unknown; status?: unknown };
          if (typeof problem.detail !== 'string' || problem.detail === '' || problem.status !== answer.status) throw new Error(`a problem without a detail: ${what}`);
        }
      }),
      { numRuns: RUNS },
    );
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(RUNS);
  }, 180_000);
});
