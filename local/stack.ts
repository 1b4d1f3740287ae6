/**
 * The whole service on one machine: a database (given, or embedded), migrations, the demo
 * policy, and the functions behind the local HTTP front. Used by `npm start` and the tests.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { migrate } from '../lib/adapters/postgres/migrate.js';
import { createLogger, type Logger } from '../lib/observability/logger.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { createHttpFront } from './http-front.js';
import { loadRoutes } from './routes.js';
import { DEMO, seedDemoPolicy } from './seed.js';

export interface StackOptions {
  /** Where .local state lives (embedded data, stack.json). */
  stateDir: string;
  port: number;
  /** Use this database instead of starting an embedded one. */
  databaseUrl?: string | undefined;
  /** Keys the gateway may send as X-API-Key; one is generated and kept if none is given. */
  apiKeys?: string | undefined;
  bootstrapAdminSubject: string;
  embeddedPostgresPort?: number;
  log?: Logger;
}

export interface StackInfo {
  api_url: string;
  enrich_url: string;
  api_key: string;
  database: 'embedded' | 'external';
  demo: { subject: string; tenant: string; multi_tenant_subject: string };
  curl: string;
}

export interface RunningStack {
  info: StackInfo;
  stop(): Promise<void>;
}

interface SavedState {
  api_key?: string;
  embedded_password?: string;
}

export async function startStack(options: StackOptions, env: Record<string, string | undefined>): Promise<RunningStack> {
  const log = options.log ?? createLogger('info', { service: 'iam-service', component: 'local' });
  mkdirSync(options.stateDir, { recursive: true });
  const statePath = join(options.stateDir, 'state.json');
  const saved = readJson<SavedState>(statePath);
  const apiKey = options.apiKeys?.split(',')[0]?.trim() || saved.api_key || randomBytes(32).toString('base64url');
  const password = saved.embedded_password ?? randomBytes(18).toString('base64url');
  writeFileSync(statePath, JSON.stringify({ api_key: apiKey, embedded_password: password }, null, 2), { mode: 0o600 });

  const stops: Array<() => Promise<void>> = [];
  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      log.info('starting embedded PostgreSQL', { dir: join(options.stateDir, 'pg') });
      const embedded = await startEmbeddedPostgres({
        dir: join(options.stateDir, 'pg'),
        port: options.embeddedPostgresPort ?? 54329,
        password,
        database: 'iam',
        onLog: () => undefined,
      });
      stops.push(embedded.stop);
      databaseUrl = embedded.url;
    }
    // The functions read their configuration from the environment, as on Lambda.
    Object.assign(env, {
      DATABASE_URL: databaseUrl,
      ENRICH_API_KEYS: options.apiKeys || apiKey,
      BOOTSTRAP_ADMIN_SUBJECT: options.bootstrapAdminSubject,
    });
    await migrate({ databaseUrl, bootstrapAdminSubject: options.bootstrapAdminSubject, log });
    const { runtime } = await import('../lib/runtime.js');
    const app = runtime(env);
    stops.unshift(() => app.db.end());
    await seedDemoPolicy(app.db);

    const server = createHttpFront(await loadRoutes());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', resolve);
    });
    stops.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const apiUrl = `http://127.0.0.1:${port}`;
    const enrichUrl = `${apiUrl}/system/enrich-token`;
    const info: StackInfo = {
      api_url: apiUrl,
      enrich_url: enrichUrl,
      api_key: apiKey,
      database: options.databaseUrl ? 'external' : 'embedded',
      demo: { subject: DEMO.subject, tenant: DEMO.tenant, multi_tenant_subject: DEMO.multiTenantSubject },
      curl:
        `curl -s -X POST ${enrichUrl} -H 'content-type: application/json' -H 'x-api-key: ${apiKey}' ` +
        `-d '{"subject":"${DEMO.subject}","tenant":"${DEMO.tenant}"}'`,
    };
    writeFileSync(join(options.stateDir, 'stack.json'), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    return { info, stop: () => runAll(stops) };
  } catch (error) {
    await runAll(stops);
    throw error;
  }
}

async function runAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops) await stop().catch(() => undefined);
}

function readJson<T>(path: string): Partial<T> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<T>;
  } catch {
    return {};
  }
}
