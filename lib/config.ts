/**
 * Configuration, read once. This is the only module that reads `process.env`: it parses
 * the environment with a schema, reports every bad variable at once by name, and returns a
 * frozen, typed object. Secrets are named here, never held (see issue #5 for Secrets Manager).
 */
import * as z from './schema.js';
import { ConfigError } from './errors.js';

/** A URL variable that must parse and pass `accept`; `message` says what was expected. */
const url = (accept: (url: URL) => boolean, message: string) =>
  z.string().check(
    z.refine((value) => {
      try {
        return accept(new URL(value));
      } catch {
        return false;
      }
    }, message),
  );

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

const postgresUrl = url(
  (u) => (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '',
  'must be a postgres:// URL with a host, e.g. postgres://user:password@host:5432/db',
);

const issuerUrl = url(
  (u) => u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.includes(u.hostname)),
  'must be the IdP issuer URL, https:// (http:// only on loopback)',
);

const webSocketUrl = url(
  (u) => (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname !== '',
  'must be a ws:// or wss:// URL of the NATS websocket listener',
);

const integer = (min: number, max: number, fallback: number) =>
  z._default(
    z.pipe(
      z.string().check(z.regex(/^\d+$/, 'must be a whole number')),
      z.pipe(z.transform((value: string) => Number(value)), z.number().check(z.gte(min), z.lte(max))),
    ),
    fallback,
  );

const flag = (fallback: boolean) =>
  z._default(
    z.pipe(z.enum(['true', 'false']), z.transform((value) => value === 'true')),
    fallback,
  );

/** Comma-separated API keys. Each must be long enough not to be guessable. */
const apiKeys = z._default(
  z.pipe(
    z.string(),
    z.pipe(
      z.transform((value: string) => value.split(',').map((key) => key.trim()).filter(Boolean)),
      z.array(z.string().check(z.minLength(32, 'each key must be at least 32 characters'))),
    ),
  ),
  [],
);

const envSchema = z.object({
  DATABASE_URL: postgresUrl,
  DATABASE_READ_URL: z.optional(postgresUrl),
  DB_POOL_MAX: integer(1, 50, 2),
  DB_CONNECT_TIMEOUT_MS: integer(100, 60_000, 3_000),
  DB_IDLE_TIMEOUT_MS: integer(0, 600_000, 30_000),
  DB_QUERY_TIMEOUT_MS: integer(100, 60_000, 5_000),
  DB_NAMED_STATEMENTS: flag(false),
  ENRICH_API_KEYS: apiKeys,
  RAUTH_URL: z.optional(issuerUrl),
  ADMIN_TOKEN_AUDIENCE: z._default(z.string().check(z.minLength(1)), 'urn:citadel:iam'),
  ADMIN_TOKEN_ALGORITHMS: z._default(
    z.pipe(
      z.string(),
      z.pipe(
        z.transform((value: string) => value.split(',').map((alg) => alg.trim()).filter(Boolean)),
        z.array(z.enum(['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'])),
      ),
    ),
    ['ES256', 'RS256', 'PS256', 'EdDSA'],
  ),
  IDP_TIMEOUT_MS: integer(100, 30_000, 3_000),
  RAUTH_ADMIN_CLIENT_ID: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  RAUTH_ADMIN_CLIENT_SECRET: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  NATS_URL: z.optional(webSocketUrl),
  NATS_CONNECT_TIMEOUT_MS: integer(10, 60_000, 2_000),
  NATS_PUBLISH_TIMEOUT_MS: integer(10, 60_000, 1_000),
  EVENTS_AFTER_COMMIT_BUDGET_MS: integer(0, 5_000, 200),
  BOOTSTRAP_ADMIN_SUBJECT: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
  METRICS_NAMESPACE: z._default(z.string().check(z.minLength(1)), 'Citadel/IamService'),
});

export interface Config {
  readonly database: {
    readonly url: string;
    /** enrich-token may read from a replica; replica lag then bounds revocation delay. */
    readonly readUrl: string;
    readonly poolMax: number;
    readonly connectTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly queryTimeoutMs: number;
    /** Named prepared statements pin RDS Proxy connections: off unless Postgres is direct. */
    readonly namedStatements: boolean;
  };
  readonly enrichApiKeys: readonly string[];
  /** The upstream IdP (R-Auth). Only the admin API needs it; see requireIdp(). */
  readonly idp: {
    readonly issuer: string | undefined;
    /** `aud` an admin access token must carry. */
    readonly audience: string;
    /** Signature algorithms accepted on admin tokens (never `none`). */
    readonly algorithms: readonly string[];
    readonly timeoutMs: number;
    /** The service's own client at R-Auth (client-credentials grant); issue #5 moves the secret to Secrets Manager. */
    readonly adminClient: { readonly id: string; readonly secret: string } | undefined;
  };
  /** Domain events: published to JetStream after commit and by the outbox relay. */
  readonly nats: {
    /** Unset: events wait in the outbox (the relay function requires it). */
    readonly url: string | undefined;
    readonly connectTimeoutMs: number;
    readonly publishTimeoutMs: number;
    /** How long a request may wait to publish its events after commit. */
    readonly afterCommitBudgetMs: number;
  };
  readonly bootstrapAdminSubject: string | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly metricsNamespace: string;
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // An empty variable means "not set": deploy tools often render unset values as ''.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = z.safeParse(envSchema, present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(environment)',
        message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
      })),
    );
  }
  const e = parsed.data;
  return deepFreeze({
    database: {
      url: e.DATABASE_URL,
      readUrl: e.DATABASE_READ_URL ?? e.DATABASE_URL,
      poolMax: e.DB_POOL_MAX,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
      queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
      namedStatements: e.DB_NAMED_STATEMENTS,
    },
    enrichApiKeys: e.ENRICH_API_KEYS,
    idp: {
      issuer: e.RAUTH_URL,
      audience: e.ADMIN_TOKEN_AUDIENCE,
      algorithms: e.ADMIN_TOKEN_ALGORITHMS,
      timeoutMs: e.IDP_TIMEOUT_MS,
      adminClient:
        e.RAUTH_ADMIN_CLIENT_ID && e.RAUTH_ADMIN_CLIENT_SECRET
          ? { id: e.RAUTH_ADMIN_CLIENT_ID, secret: e.RAUTH_ADMIN_CLIENT_SECRET }
          : undefined,
    },
    nats: {
      url: e.NATS_URL,
      connectTimeoutMs: e.NATS_CONNECT_TIMEOUT_MS,
      publishTimeoutMs: e.NATS_PUBLISH_TIMEOUT_MS,
      afterCommitBudgetMs: e.EVENTS_AFTER_COMMIT_BUDGET_MS,
    },
    bootstrapAdminSubject: e.BOOTSTRAP_ADMIN_SUBJECT,
    logLevel: e.LOG_LEVEL,
    metricsNamespace: e.METRICS_NAMESPACE,
  });
}

/** The NATS URL, for the outbox relay, which has nothing to do without one. */
export function requireNatsUrl(config: Config): string {
  if (!config.nats.url) throw new ConfigError([{ path: 'NATS_URL', message: 'is required by the outbox relay' }]);
  return config.nats.url;
}

/** The IdP issuer, for functions that cannot run without one (the admin API). */
export function requireIdpIssuer(config: Config): string {
  if (!config.idp.issuer) throw new ConfigError([{ path: 'RAUTH_URL', message: 'is required by the admin API' }]);
  return config.idp.issuer;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** The process's environment. Other modules receive a Config, never process.env. */
export const processEnv = (): Readonly<Record<string, string | undefined>> => process.env;
