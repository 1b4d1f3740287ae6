/**
 * One measured case, in its own process (forked by cases.ts with stdout discarded: the
 * handler and the EMF library write a JSON line per request). Results go back over IPC.
 *   floor    one indexed SELECT of a mapping through createDatabase (unnamed statement)
 *   handler  the enrich-token Lambda handler invoked in-process with payload-2.0 events
 *   server   the local HTTP front on a loopback port, for autocannon in the parent
 *   admin    the admin API's read routes in-process, with a real token (admin-reads.ts)
 * The parent sets DATABASE_URL, ENRICH_API_KEYS, and DB_POOL_MAX;
 * the handler is imported dynamically so nothing reads the environment before that.
 */
import type { AddressInfo } from 'node:net';
import { lambdaContext } from '../local/http-front.js';
import type { AdminReadResult } from './admin-reads.js';
import { cognitoEvent, enrichEvent, forwardAuthEvent } from './event.js';
import { type CpuUsage, startCpuMeter } from './cpu.js';
import { drive } from './drive.js';
import type { CaseResult } from './stats.js';
import { type BenchDialect, type Call, DIALECT_BODIES, firstCall, randomCall, tenantSlug, type Workload } from './workload.js';

export type CaseName = 'floor' | 'handler' | 'hydra' | 'oathkeeper' | 'cognito' | 'forward-auth' | 'server' | 'admin';

export interface WorkerOptions {
  case: CaseName;
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  workload: Workload;
}

/** Worker → orchestrator. The orchestrator sends 'stop', and to the server 'mark' / 'report' (CPU). */
export type WorkerMessage =
  | { type: 'result'; result: CaseResult & { sample: string } }
  | { type: 'admin'; results: AdminReadResult[] }
  | { type: 'listening'; port: number }
  | { type: 'marked' }
  | { type: 'cpu'; usage: CpuUsage }
  | { type: 'failed'; error: string };

// Never outlive the orchestrator.
process.on('disconnect', () => process.exit(1));
const databaseUrl = process.env.DATABASE_URL!;
const onMessage = (what: string, act: () => void | Promise<void>) =>
  process.on('message', (message) => {
    if (message === what) void Promise.resolve(act()).catch((error: unknown) => fail(error));
  });
onMessage('stop', () => process.exit(0));
const options = JSON.parse(process.argv[2] ?? '{}') as WorkerOptions;
const w = options.workload;
const send = (message: WorkerMessage) =>
  new Promise<void>((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
const call = () => randomCall(w);

async function measure<T>(prepare: () => T, run: (input: T) => Promise<void>, sample: string): Promise<void> {
  await drive(options.warmupSeconds, options.concurrency, prepare, run);
  const cpu = await startCpuMeter(databaseUrl);
  const result = await drive(options.seconds, options.concurrency, prepare, run);
  const usage = cpu();
  const done = result.requests + result.errors;
  result.cpuMsPerRequest = { node: usage.nodeMs / done, database: usage.databaseMs === undefined ? undefined : usage.databaseMs / done };
  await send({ type: 'result', result: { ...result, sample } });
}

async function floor(): Promise<void> {
  const { createDatabase } = await import('../lib/adapters/postgres/database.js');
  const { createLogger } = await import('../lib/observability/logger.js');
  const db = createDatabase({
    url: databaseUrl,
    poolMax: Number(process.env.DB_POOL_MAX),
    connectTimeoutMs: 3_000,
    idleTimeoutMs: 30_000,
    queryTimeoutMs: 5_000,
    namedStatements: process.env.DB_NAMED_STATEMENTS === 'true',
    log: createLogger('warn', { component: 'bench' }),
    metrics: { databaseError: () => undefined },
  });
  const rows = await db.query<{ slug: string; id: string }>('bench.tenants', `SELECT slug, id FROM tenants WHERE slug LIKE 'bench-t%'`);
  const ids = new Map(rows.map((row) => [row.slug, row.id]));
  const tenantIds = Array.from({ length: w.tenants + 1 }, (_, n) => ids.get(tenantSlug(w, n)) ?? '');
  const lookup = (call: Call) =>
    db.query('bench.floor', 'SELECT role_id FROM subject_roles WHERE tenant_id = $1 AND subject = $2', [
      tenantIds[call.tenantNumber],
      call.subject,
    ]);
  const sample = JSON.stringify(await lookup(firstCall(w)));
  await measure(call, async (c) => {
    if ((await lookup(c)).length === 0) throw new Error(`no mapping for ${c.subject} in tenant ${c.tenantNumber}`);
  }, sample);
}

/** The enrich-token handler in-process, spoken to in one dialect. */
async function handlerCase(dialect: BenchDialect): Promise<void> {
  const { handler } = await import('../functions/enrich-token.js');
  const apiKey = process.env.ENRICH_API_KEYS!;
  const body = DIALECT_BODIES[dialect];
  const invoke = (text: string) => handler(enrichEvent(text, apiKey), lambdaContext('/system/enrich-token'));
  const first = await invoke(body(firstCall(w)));
  const sample = `${first.statusCode} ${first.body}`;
  await measure(
    () => enrichEvent(body(call()), apiKey),
    async (event) => {
      const response = await handler(event, lambdaContext('/system/enrich-token'));
      if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body} (request ${event.body})`);
    },
    sample,
  );
}

/** The Cognito trigger in-process, with version-2 sign-in events. */
async function cognitoCase(): Promise<void> {
  const { handler } = await import('../functions/cognito-pre-token.js');
  const context = lambdaContext('cognito-pre-token-generation');
  const first = (await handler(cognitoEvent(firstCall(w).subject, undefined), context)) as { response: unknown };
  await measure(
    call,
    async (c) => {
      const answer = (await handler(cognitoEvent(c.subject, c.tenant), context)) as { response: { claimsAndScopeOverrideDetails: unknown } };
      if (!answer.response.claimsAndScopeOverrideDetails) throw new Error(`no claims for ${c.subject}`);
    },
    JSON.stringify(first.response).slice(0, 200),
  );
}

/**
 * forward-auth in-process: a JWT verified per request against the dev IdP's JWKS (fetched once,
 * cached), then the lookup. Tokens are minted before measuring, so signing costs nothing here.
 */
async function forwardAuthCase(): Promise<void> {
  const { startDevIdp } = await import('../local/dev-idp.js');
  const { importJWK, SignJWT } = await import('jose');
  const idp = await startDevIdp({ adminSubject: 'bench-admin' });
  Object.assign(process.env, { RAUTH_URL: idp.issuer, ADMIN_TOKEN_AUDIENCE: idp.audience });
  const { handler } = await import('../functions/forward-auth.js');
  const key = await importJWK(idp.signingKey, idp.signingKey.alg);
  const apiKey = process.env.ENRICH_API_KEYS!;
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < 2_000; i += 1) {
    const c = call();
    const claims = { iss: idp.issuer, aud: idp.audience, sub: c.subject, iat: now, exp: now + 3600, ...(c.tenant === undefined ? {} : { tenant: c.tenant }) };
    tokens.push(await new SignJWT(claims).setProtectedHeader({ alg: idp.signingKey.alg, kid: idp.signingKey.kid, typ: 'at+jwt' }).sign(key));
  }
  const context = lambdaContext('/system/forward-auth');
  const first = await handler(forwardAuthEvent(tokens[0]!, apiKey), context);
  await measure(
    () => forwardAuthEvent(tokens[Math.floor(Math.random() * tokens.length)]!, apiKey),
    async (event) => {
      const response = await handler(event, context);
      if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`);
    },
    `${first.statusCode} ${JSON.stringify(Object.fromEntries(Object.entries(first.headers).filter(([name]) => name.startsWith('x-auth'))))}`,
  );
  await idp.stop();
}

async function server(): Promise<void> {
  const { createHttpFront } = await import('../local/http-front.js');
  const { loadRoutes } = await import('../local/routes.js');
  // Only enrich-token: the admin functions need configuration the benchmark does not provide.
  const front = createHttpFront(await loadRoutes({ admin: false }));
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', resolve);
  });
  let cpu: (() => CpuUsage) | undefined;
  onMessage('mark', async () => {
    cpu = await startCpuMeter(databaseUrl);
    await send({ type: 'marked' });
  });
  onMessage('report', () => send({ type: 'cpu', usage: cpu?.() ?? { nodeMs: Number.NaN, databaseMs: undefined } }));
  await send({ type: 'listening', port: (front.address() as AddressInfo).port });
}

async function fail(error: unknown): Promise<never> {
  await send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}

try {
  if (options.case === 'floor') await floor();
  else if (options.case === 'handler') await handlerCase('native');
  else if (options.case === 'hydra' || options.case === 'oathkeeper') await handlerCase(options.case);
  else if (options.case === 'cognito') await cognitoCase();
  else if (options.case === 'forward-auth') await forwardAuthCase();
  else if (options.case === 'server') await server();
  else if (options.case === 'admin') {
    const { adminReads } = await import('./admin-reads.js');
    await send({ type: 'admin', results: await adminReads(w, options.seconds, options.warmupSeconds) });
  }
  else throw new Error(`unknown case ${String(options.case)}`);
} catch (error) {
  await fail(error);
}
