/**
 * Property-based robustness of the admin API: arbitrary JSON bodies, path segments, query
 * strings and headers, thrown at every route of the route table as a platform admin and as a
 * tenant admin, plus a catalogue of raw malformed bodies. Whatever comes in, nothing answers
 * 5xx, and every 4xx is an RFC 9457 problem whose `status` is the HTTP status and whose
 * `request_id` is the response's x-request-id. Requests go over a raw socket (node:http) so
 * that paths and bodies reach the server byte for byte as generated.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ADMIN_ROUTES, type AdminOperation, type AdminRoute } from '../../lib/admin/routes.js';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';

type Persona = 'platformAdmin' | 'tenantAdmin';
const PERSONAS: readonly Persona[] = ['platformAdmin', 'tenantAdmin'];
const ROUTES = Object.entries(ADMIN_ROUTES) as [AdminOperation, AdminRoute][];
const HAS_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** POSTs that read no body (a body sent anyway is ignored, not refused). */
const NO_BODY = new Set<AdminOperation>(['rotateClientSecret']);
const takesBody = (operation: AdminOperation, route: AdminRoute) => HAS_BODY.has(route.method) && !NO_BODY.has(operation);

/** Runs per property, and per (operation, persona) for bodies: the file takes ~35 s on 2 cores (client creates reach the real IdP). */
const RUNS = 200;
const BODY_RUNS = 40;
const FC_OPTIONS = { numRuns: RUNS, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false } as const;

/**
 * Path values that exist, per persona: the platform admin works in `fuzz`, the tenant admin in
 * acme. Client ids are issued by the IdP: filled in (and renewed when a run deletes a client) by
 * restoreFixtures, so these lists are read when a path is generated, never captured earlier.
 */
const KNOWN: Record<Persona, Record<string, string[]>> = {
  platformAdmin: { tenant: ['fuzz', 'platform', 'globex'], role: ['fuzz-role', 'viewer'], subject: ['fuzz-user', 'acme-user'], client: [] },
  tenantAdmin: { tenant: ['acme', 'globex', 'fuzz'], role: ['viewer', 'fuzz-role'], subject: ['acme-user', 'fuzz-user'], client: [] },
};

/** A body each operation would accept. */
const BASE_BODIES: Partial<Record<AdminOperation, Record<string, unknown>>> = {
  createTenant: { slug: 'fz-tenant', name: 'Fuzzed' },
  updateTenant: { name: 'Fuzzed' },
  createRole: { name: 'fz-role', description: 'fuzzed', permissions: ['docs:read'] },
  updateRole: { description: 'fuzzed', permissions: ['docs:read'] },
  putUser: { roles: [] },
  createClient: { client_name: 'Fuzzed client' },
  updateClient: { client_name: 'Fuzzed client', roles: [] },
};

interface RawRequest {
  persona: Persona;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const loneSurrogates = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const wellFormed = (s: string) => s.replace(loneSurrogates, '\ufffd');

/** As a client would: every character outside the unreserved set percent-encoded. */
const encodeSegment = (s: string) => encodeURIComponent(wellFormed(s));
/** Leaves `%`, `/` and `.` raw (so `%00`, `..`, `a/b` and stray `%` reach the server as typed); encodes what the wire forbids. */
const rawSegment = (s: string) =>
  [...wellFormed(s)].map((ch) => (/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]/.test(ch) ? ch : encodeURIComponent(ch))).join('');

/** A JSON object text built from entries, so keys such as `__proto__` and duplicates survive. */
const objectText = (entries: [string, unknown][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;

const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

// ---- arbitraries -------------------------------------------------------------------------

const weirdText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 20 }),
  fc.constantFrom(
    '', ' ', '..', '.', '...', '\u0000', 'a\u0000b', '/', 'a/b', '%', '%2F', '%00', '%2e%2e', '%zz', '%E0%A4%A', '\t', 'ACME', 'acme ',
    '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', "' OR '1'='1", '"; DROP TABLE tenants; --',
    '${jndi:ldap://127.0.0.1/x}', '{{7*7}}', '<script>alert(1)</script>', '\u202egnp.exe', '\ufeff', '😀', 'ﬀ', 'İ', 'null', 'undefined',
    '0', '-1', '00000000-0000-4000-8000-000000000001', 'platform', 'PLATFORM', 'acme%2Froles',
  ),
  fc.integer({ min: 64, max: 4000 }).map((n) => 'a'.repeat(n)),
  fc.string({ unit: 'grapheme-composite', minLength: 100, maxLength: 300 }),
);

const segment = (known: string[]) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...(known.length ? known : ['x'])).map(encodeSegment) },
    { weight: 3, arbitrary: weirdText.map(encodeSegment) },
    { weight: 1, arbitrary: weirdText.map(rawSegment) },
  );

/** A plausible value with one character the database, the logs or a parser may choke on. */
const nasty = fc
  .tuple(
    fc.string({ maxLength: 12 }),
    fc.oneof(
      { weight: 2, arbitrary: fc.constant('\u0000') },
      { weight: 2, arbitrary: fc.constantFrom('\u0001', '\u001f', '\u007f') },
      {
        weight: 2,
        arbitrary: fc.constantFrom('\u0085', '\ud800', '\udfff', '\u2028', '\u202e', '\ufeff', '\uffff', '\u{10ffff}', '\\', '"', '%00', "'", '\n'),
      },
    ),
    fc.string({ maxLength: 12 }),
  )
  .map(([before, ch, after]) => before + ch + after);

const jsonish = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 2, arbitrary: fc.array(fc.oneof(nasty, fc.constantFrom('viewer', 'fuzz-role', 'docs:read', 'iam:*', 'iam:admin')), { minLength: 1, maxLength: 4 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', ' ', null, true, false, 0, -1, 1e308, -0, [], {}, [null], { '': '' }, 'active', 'suspended', 'deleted') },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 70_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 2_000 }).map((depth) => JSON.parse(nestedArrays(depth)) as unknown) },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { minLength: 100, maxLength: 400 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('viewer', 'fuzz-role', 'docs:read', 'iam:*', 'iam:admin', 'a'.repeat(200), ''), { maxLength: 5 }) },
);

/** Values close to what each field accepts (lengths at and past the limits, any script, a stray control character). */
const FIELD_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  slug: fc.oneof(fc.stringMatching(/^[a-z0-9-]{2,63}$/), fc.constantFrom('a', 'a'.repeat(64), 'Upper', 'with space', 'platform'), nasty),
  name: fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
    fc.constantFrom('x'.repeat(63), 'x'.repeat(64), 'x'.repeat(200), 'x'.repeat(201), ''),
    nasty,
  ),
  status: fc.constantFrom('active', 'suspended', 'ACTIVE', 'deleted', '', null),
  description: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 1000 }),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.constantFrom('x'.repeat(1000), 'x'.repeat(1001), '€'.repeat(1000), '😀'.repeat(500), '😀'.repeat(501)),
    nasty,
    nasty,
  ),
  permissions: fc.oneof(
    fc.array(fc.stringMatching(/^[A-Za-z0-9*][A-Za-z0-9_.:*/-]{0,127}$/), { maxLength: 8 }),
    fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9*][A-Za-z0-9_.:*/-]{0,127}$/), nasty), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 199, max: 201 }).map((n) => Array.from({ length: n }, (_, i) => `p${i}:read`)),
    fc.constant(['x'.repeat(128), 'x'.repeat(129)]),
  ),
  client_name: fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
    fc.constantFrom('x'.repeat(200), 'x'.repeat(201), '', ' ', '<script>alert(1)</script>'),
    nasty,
  ),
  grant_types: fc.oneof(
    fc.subarray(['client_credentials', 'authorization_code', 'refresh_token']),
    fc.array(fc.constantFrom('client_credentials', 'authorization_code', 'refresh_token', 'implicit', 'password', 'urn:ietf:params:oauth:grant-type:device_code', ''), {
      maxLength: 5,
    }),
    jsonish,
  ),
  redirect_uris: fc.oneof(
    fc.array(fc.webUrl({ withQueryParameters: true, withFragments: true }), { maxLength: 3 }),
    fc.array(
      fc.constantFrom(
        'https://app.example/cb',
        'http://127.0.0.1:8080/cb',
        'http://[::1]/cb',
        'http://localhost/cb',
        'http://evil.example/cb',
        'https://app.example/cb#frag',
        'https://app.example/cb#',
        'javascript:alert(1)',
        'https:',
        'https://',
        '//app.example/cb',
        'HTTPS://APP.EXAMPLE/CB',
        'https://user:pass@app.example/cb',
        'https://xn--nxasmq6b.example/cb',
        'https://app.example/' + 'a'.repeat(2000),
        'custom.scheme:/cb',
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.integer({ min: 20, max: 21 }).map((n) => Array.from({ length: n }, (_, i) => `https://app.example/cb${i}`)),
    jsonish,
  ),
  scope: fc.oneof(
    fc.constantFrom('', 'iam', 'openid iam', 'openid', 'iam iam', 'unknown-scope', ' iam', 'iam ', 'a  b', 'a"b', 'a\\b', 'x'.repeat(1000), 'x'.repeat(1001)),
    fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,20}( [\x21\x23-\x5b\x5d-\x7e]{1,20}){0,3}$/),
    nasty,
  ),
  token_endpoint_auth_method: fc.constantFrom('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none', 'CLIENT_SECRET_BASIC', '', null),
  roles: fc.oneof(
    fc.array(fc.constantFrom('viewer', 'fuzz-role', 'tenant-admin', 'platform-admin'), { maxLength: 4 }),
    fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/), nasty), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 99, max: 101 }).map((n) => Array.from({ length: n }, () => 'viewer')),
  ),
};

const fieldName = fc.oneof(
  fc.constantFrom('slug', 'name', 'status', 'description', 'permissions', 'roles', 'id', 'tenant', 'tenant_id', 'created_at', 'updated_at', 'version', 'subject_type'),
  fc.constantFrom('client_id', 'client_secret', 'client_secret_expires_at', 'registration_access_token', 'registration_client_uri', 'response_types', 'software_id', 'jwks_uri', 'created_by'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', ''),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** A body text for an operation: fully arbitrary JSON, or a valid body with fields replaced or added. */
const bodyFor = (operation: AdminOperation) => {
  const base = Object.entries(BASE_BODIES[operation] ?? {});
  // Mostly the operation's own fields, so that the values reach the use case and the database.
  const field = base.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...base.map(([k]) => k)) }, { weight: 1, arbitrary: fieldName }) : fieldName;
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }).map((v) => JSON.stringify(v)) },
    // A valid body with one or two of its own fields set to an edge value: reaches the use case and the database.
    ...(base.length
      ? [
          {
            weight: 6,
            arbitrary: fc
              .array(fc.constantFrom(...base.map(([k]) => k)).chain((k) => fc.tuple(fc.constant(k), FIELD_VALUES[k] ?? jsonish)), { minLength: 1, maxLength: 2 })
              .map((changes) => objectText([...new Map<string, unknown>([...base, ...changes]).entries()])),
          },
        ]
      : []),
    // Any fields, known or not, with any values, with or without the valid ones.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(fc.tuple(field, jsonish), { minLength: 1, maxLength: 3 }), fc.boolean())
        .map(([changes, keepBase]) => {
          const entries = new Map<string, unknown>(keepBase ? base : []);
          const extra: [string, unknown][] = [];
          for (const [k, v] of changes) {
            if (k === '__proto__' || !entries.has(k)) extra.push([k, v]);
            else entries.set(k, v);
          }
          return objectText([...entries.entries(), ...extra]);
        }),
    },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 100, max: 10_000 }), fc.boolean()).map(([d, arrays]) => (arrays ? nestedArrays(d) : nestedObjects(d))) },
    { weight: 1, arbitrary: fc.constantFrom(objectText([...base, ['__proto__', { isAdmin: true, polluted: 'yes' }]]), objectText([...base, ['constructor', { prototype: { polluted: 'yes' } }]])) },
  );
};

/** Header values Node's client can put on the wire (latin-1, no CR/LF). */
const headerText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  fc.constantFrom('', '*', '"v1"', 'W/"v1"', '"v1", "v2"', '"v999999999"', '"v-1"', '"v1', 'v1', '"v0"', '"v01"', '"v9999999999"'),
  fc.integer({ min: 200, max: 2_000 }).map((n) => 'k'.repeat(n)),
);

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const cursorValue = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(nasty, fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', 'a'.repeat(300), 'zzzz')).map((k) => b64json({ k })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }).map((k) => b64json({ k })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map(b64json) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 400, max: 3000 }).map((n) => 'A'.repeat(n)) },
);
const limitValue = fc.oneof(
  fc.constantFrom('0', '1', '2', '100', '101', '-1', '1e2', '1.5', '', 'abc', '99999999999999999999', '0x10', ' 5', '５'),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer().map(String),
);
const queryText = fc
  .array(
    fc.oneof(
      { weight: 2, arbitrary: fc.tuple(fc.constant('cursor'), cursorValue) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('limit'), limitValue) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.oneof(fc.constantFrom('__proto__', 'constructor', 'limit[]', 'sort', '', 'Limit', 'cursor '), fc.string({ unit: 'binary', maxLength: 10 })),
          fc.oneof(limitValue, cursorValue),
        ),
      },
    ),
    { maxLength: 3 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join('&'));

const routeAndPersona = fc.tuple(fc.constantFrom(...ROUTES), fc.constantFrom(...PERSONAS));
/** Routes weighted towards those that use the generated part (bodies: creates and updates; queries: lists). */
const weightedRoute = (preferred: (route: AdminRoute) => boolean) =>
  fc.tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ROUTES.filter(([, r]) => preferred(r))) }, { weight: 1, arbitrary: fc.constantFrom(...ROUTES) }),
    fc.constantFrom(...PERSONAS),
  );
const isList = (route: AdminRoute) => route.method === 'GET' && !route.path.endsWith('}');

// ---- the checks --------------------------------------------------------------------------

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

function describeRequest(req: RawRequest): string {
  const body = req.body === undefined ? '' : ` body=${String(req.body).slice(0, 300)}${String(req.body).length > 300 ? '…' : ''}`;
  return `${req.persona} ${req.method} ${req.path.slice(0, 300)} headers=${JSON.stringify(req.headers ?? {})}${body}`;
}

/** Throws (with the request in the message) unless the answer keeps the error contract. */
function checkAnswer(req: RawRequest, answer: RawAnswer): void {
  const fail = (why: string) => {
    throw new Error(`${why}\n  request: ${describeRequest(req)}\n  answer: ${answer.status} ${JSON.stringify(answer.headers)} ${answer.text.slice(0, 500)}`);
  };
  if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== PROTOTYPE_KEYS.join() || ({} as Record<string, unknown>).polluted !== undefined) {
    fail('Object.prototype was polluted');
  }
  if (answer.status >= 500) fail(`answered ${answer.status}`);
  if (answer.status < 400) return;
  if (answer.headers['content-type'] !== 'application/problem+json') fail('a 4xx that is not application/problem+json');
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    return fail('a 4xx whose body is not JSON');
  }
  // The HTTP front's own answers (no route, wrong method, bad path, over 6 MB) keep the same contract.
  const requestId = answer.headers['x-request-id'];
  if (typeof requestId !== 'string' || requestId === '') fail('an answer without x-request-id');
  for (const field of ['type', 'title', 'detail'] as const) if (typeof problem[field] !== 'string' || problem[field] === '') fail(`problem without ${field}`);
  if (problem.status !== answer.status) fail('problem status differs from the HTTP status');
  if (problem.request_id !== requestId) fail('problem request_id differs from x-request-id');
}

describe('admin API under arbitrary input', () => {
  let stack: AdminStack;
  let host: { hostname: string; port: string };

  function send(req: RawRequest): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
      const headers: Record<string, string> = {
        ...stack.headers(req.persona),
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) }),
        ...req.headers,
      };
      const outgoing = request({ host: host.hostname, port: host.port, method: req.method, path: req.path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      // A request the server never answers fails the property instead of hanging the file.
      outgoing.setTimeout(5_000, () => outgoing.destroy(new Error(`no answer within 5 s: ${describeRequest(req)}`)));
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  const exchange = async (req: RawRequest) => checkAnswer(req, await send(req));

  /** The first client of each tenant the properties work in (its id is the IdP's); registered through the API when there is none. */
  const clientOf: Record<'fuzz' | 'acme', string> = { fuzz: '', acme: '' };

  /** Puts the `fuzz` tenant back as the properties expect it (a run may delete or suspend it), and a client in fuzz and in acme. */
  async function restoreFixtures(): Promise<void> {
    await stack.db.query('test.fuzz_tenant', "INSERT INTO tenants (slug, name) VALUES ('fuzz', 'fuzz') ON CONFLICT (slug) DO UPDATE SET status = 'active'");
    await stack.db.query(
      'test.fuzz_role',
      "INSERT INTO roles (tenant_id, name, permissions) SELECT id, 'fuzz-role', '{docs:read}' FROM tenants WHERE slug = 'fuzz' ON CONFLICT DO NOTHING",
    );
    await stack.db.query('test.fuzz_user', "INSERT INTO subjects (tenant_id, subject) SELECT id, 'fuzz-user' FROM tenants WHERE slug = 'fuzz' ON CONFLICT DO NOTHING");
    const present = await stack.db.query<{ client_id: string }>('test.fuzz_clients', 'SELECT client_id FROM clients WHERE client_id = ANY ($1::text[])', [
      Object.values(clientOf),
    ]);
    for (const tenant of ['fuzz', 'acme'] as const) {
      if (present.some((row) => row.client_id === clientOf[tenant])) continue;
      const created = await stack.call('platformAdmin', 'POST', `/tenants/${tenant}/clients`, { client_name: `${tenant} fixture client` });
      if (created.status !== 201) throw new Error(`fixture: registering a client in ${tenant} answered ${created.status} ${JSON.stringify(created.json)}`);
      clientOf[tenant] = created.json.client_id;
    }
    KNOWN.platformAdmin.client = [clientOf.fuzz, clientOf.acme];
    KNOWN.tenantAdmin.client = [clientOf.acme, clientOf.fuzz];
  }

  const pathFor = (route: AdminRoute, persona: Persona) =>
    fc
      .record(Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, segment(KNOWN[persona][m[1]!] ?? ['x'])])))
      .map((params) => route.path.replace(/\{(\w+)\}/g, (_, name: string) => (params as Record<string, string>)[name]!));

  const knownPath = (route: AdminRoute, persona: Persona) =>
    route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeSegment(KNOWN[persona][name]?.[0] ?? 'x'));

  const preconditions = (route: AdminRoute): Record<string, string> => (route.method === 'PATCH' ? { 'if-match': '*' } : {});

  beforeAll(async () => {
    stack = await startAdminStack();
    const url = new URL(stack.url);
    host = { hostname: url.hostname, port: url.port };
    await restoreFixtures();
  });
  afterAll(() => stack?.stop());

  const bodyCases = ROUTES.filter(([operation, route]) => takesBody(operation, route)).flatMap(([operation, route]) =>
    PERSONAS.map((persona) => [operation, persona, route] as const),
  );

  it.each(bodyCases)('never answers 5xx and always a well-formed problem to arbitrary JSON bodies on %s as %s', async (operation, persona, route) => {
    await fc.assert(
      fc.asyncProperty(bodyFor(operation), async (body) => {
        await restoreFixtures();
        await exchange({ persona, method: route.method, path: knownPath(route, persona), headers: preconditions(route), body });
      }),
      { ...FC_OPTIONS, numRuns: BODY_RUNS },
    );
  }, 60_000);

  it('never answers 5xx and always a well-formed problem to arbitrary JSON bodies on any route', async () => {
    await fc.assert(
      fc.asyncProperty(
        routeAndPersona.chain(([[operation, route], persona]) => fc.tuple(fc.constant(route), fc.constant(persona), bodyFor(operation))),
        async ([route, persona, body]) => {
          await restoreFixtures();
          await exchange({ persona, method: route.method, path: knownPath(route, persona), headers: preconditions(route), body });
        },
      ),
      { ...FC_OPTIONS, numRuns: RUNS / 2 },
    );
  }, 60_000);

  it('never answers 5xx and always a well-formed problem to arbitrary path segments', async () => {
    await fc.assert(
      fc.asyncProperty(
        routeAndPersona.chain(([[operation, route], persona]) => fc.tuple(fc.constant(operation), fc.constant(route), fc.constant(persona), pathFor(route, persona))),
        async ([operation, route, persona, path]) => {
          await restoreFixtures();
          const base = BASE_BODIES[operation];
          await exchange({ persona, method: route.method, path, headers: preconditions(route), body: base && JSON.stringify(base) });
        },
      ),
      FC_OPTIONS,
    );
  }, 60_000);

  it('never answers 5xx and always a well-formed problem to arbitrary query strings', async () => {
    await fc.assert(
      fc.asyncProperty(weightedRoute(isList), queryText, async ([[operation, route], persona], query) => {
        await restoreFixtures();
        const base = BASE_BODIES[operation];
        await exchange({ persona, method: route.method, path: `${knownPath(route, persona)}?${query}`, headers: preconditions(route), body: base && JSON.stringify(base) });
      }),
      FC_OPTIONS,
    );
  }, 60_000);

  it('never answers 5xx and always a well-formed problem to arbitrary If-Match, Idempotency-Key, Content-Type and X-Request-Id', async () => {
    await fc.assert(
      fc.asyncProperty(
        routeAndPersona,
        fc.record(
          {
            'if-match': headerText,
            'idempotency-key': headerText,
            'content-type': fc.oneof(headerText, fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/merge-patch+json', 'application/jsonx', 'multipart/form-data; boundary=x')),
            'x-request-id': headerText,
          },
          { requiredKeys: [] },
        ),
        async ([[operation, route], persona], headers) => {
          await restoreFixtures();
          const base = BASE_BODIES[operation];
          await exchange({ persona, method: route.method, path: knownPath(route, persona), headers, body: base && JSON.stringify(base) });
        },
      ),
      FC_OPTIONS,
    );
  }, 60_000);

  it('answers every raw malformed body with a 4xx problem, on every route that takes a body', async () => {
    const utf16 = Buffer.from('{"name":"utf16","permissions":[]}', 'utf16le');
    const bodies: [string, string | Buffer, Record<string, string>?][] = [
      ['empty', ''],
      ['whitespace', '  \n '],
      ['an unterminated object', '{'],
      ['a lone closing brace', '}'],
      ['a truncated member', '{"name":'],
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"text"'],
      ['an array', '[]'],
      ['NaN', 'NaN'],
      ['a NaN member', '{"name": NaN}'],
      ['a trailing comma', '{"name":"a","permissions":[],}'],
      ['single quotes', "{'name':'a'}"],
      ['trailing garbage', '{"name":"a","permissions":[]}garbage'],
      ['a byte-order mark', '\ufeff{"name":"bom","permissions":[]}'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d])],
      ['UTF-16', utf16],
      ['UTF-16 announced as such', utf16, { 'content-type': 'application/json; charset=utf-16' }],
      ['a lone surrogate escape', '{"name":"a","description":"\\ud800","permissions":[],"slug":"x","roles":[]}'],
      ['a NUL escape in every string', '{"name":"a\\u0000","description":"\\u0000","permissions":["\\u0000"],"slug":"\\u0000","roles":["\\u0000"]}'],
      ['a NUL escape in a key', '{"name\\u0000":"a"}'],
      ['duplicate keys', '{"name":"a","name":"b","permissions":[],"permissions":[1]}'],
      ['a __proto__ member', '{"__proto__":{"isAdmin":true,"polluted":"yes"},"name":"pp","permissions":[]}'],
      ['a constructor.prototype member', '{"constructor":{"prototype":{"polluted":"yes"}},"name":"pp","permissions":[]}'],
      ['a huge exponent', '{"name":"a","permissions":[],"version":1e999}'],
      ['a 30-digit number', '{"name":123456789012345678901234567890}'],
      ['deeply nested arrays', nestedArrays(20_000)],
      ['deeply nested objects', nestedObjects(10_000)],
      ['a body just over 64 KiB', JSON.stringify({ name: 'big', description: 'x'.repeat(65 * 1024), permissions: [] })],
      ['a body over the 6 MB payload limit', 'x'.repeat(6 * 1024 * 1024 + 10)],
      ['plain text', 'name=a', { 'content-type': 'text/plain' }],
      ['form encoding', 'name=a&permissions=x', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    const failures: string[] = [];
    for (const [operation, route] of ROUTES.filter(([op, r]) => takesBody(op, r))) {
      for (const persona of PERSONAS) {
        for (const [name, body, headers] of bodies) {
          const req: RawRequest = { persona, method: route.method, path: knownPath(route, persona), headers: { ...preconditions(route), ...headers }, body };
          try {
            await restoreFixtures();
            const answer = await send(req);
            checkAnswer(req, answer);
            if (persona === 'platformAdmin' && answer.status < 400) failures.push(`${operation} accepted ${name}: ${answer.status} ${answer.text.slice(0, 200)}`);
          } catch (error) {
            failures.push(`${operation} with ${name}: ${(error as Error).message.split('\n')[0]}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('answers a malformed percent-escape in a path segment with a 4xx problem instead of hanging', async () => {
    for (const path of ['/tenants/acme/roles/%E0%A4%A', '/tenants/%zz/roles', '/tenants/acme/users/%']) {
      const req: RawRequest = { persona: 'platformAdmin', method: 'GET', path };
      checkAnswer(req, await send(req));
    }
  });
});
