/**
 * Configuration, read once. This is the only module that reads `process.env`: it parses
 * the environment with a schema, reports every bad variable at once by name, and returns a
 * frozen, typed object. Secrets are named here, never held: lib/secrets/credentials.ts reads them
 * (from Secrets Manager where a `*_SECRET_ID` names one).
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

/** Hosts on which an http:// IdP URL is allowed (the dev IdP); everything else must be https://. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

const postgresUrl = url(
  (u) => (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '',
  'must be a postgres:// URL with a host, e.g. postgres://user:password@host:5432/db',
);

const issuerUrl = url(
  (u) => u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.includes(u.hostname)),
  'must be the IdP issuer URL, https:// (http:// only on loopback)',
);

const webSocketUrl = url(
  (u) => (u.protocol === 'ws:' || u.protocol === 'wss:') && u.hostname !== '',
  'must be a ws:// or wss:// URL of the NATS websocket listener',
);

/** `id:base64key` pairs, comma-separated: the first seals, every one opens (key rotation). */
const sealKeys = z.pipe(
  z.string(),
  z.pipe(
    z.transform((value: string) => value.split(',').map((entry) => entry.trim()).filter(Boolean)),
    z.array(
      z.string().check(
        z.refine((entry) => {
          const [id, key, extra] = entry.split(':');
          return extra === undefined && /^[A-Za-z0-9_-]{1,64}$/.test(id ?? '') && Buffer.from(key ?? '', 'base64').length === 32;
        }, 'each entry must be <key id>:<32 bytes in base64>, e.g. k1:$(openssl rand -base64 32)'),
      ),
    ).check(z.minLength(1, 'must name at least one key')),
  ),
);

/** A Secrets Manager secret: its name or ARN. The environment names secrets, never holds them. */
// `!` appears in the names of secrets RDS manages (rds!cluster-…).
const secretId = z.string().check(z.regex(/^[A-Za-z0-9/_+=.@:!-]{1,2048}$/, 'must be a Secrets Manager secret name or ARN'));

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
  DATABASE_URL: z.optional(postgresUrl),
  DATABASE_SECRET_ID: z.optional(secretId),
  DATABASE_READ_URL: z.optional(postgresUrl),
  DB_POOL_MAX: integer(1, 50, 2),
  DB_CONNECT_TIMEOUT_MS: integer(100, 60_000, 3_000),
  DB_IDLE_TIMEOUT_MS: integer(0, 600_000, 30_000),
  DB_QUERY_TIMEOUT_MS: integer(100, 60_000, 5_000),
  DB_NAMED_STATEMENTS: flag(false),
  ENRICH_API_KEYS: apiKeys,
  RAUTH_URL: z.optional(issuerUrl),
  ADMIN_TOKEN_AUDIENCE: z._default(z.string().check(z.minLength(1)), 'urn:citadel:iam'),
  FORWARD_AUTH_AUDIENCE: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
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
  ADMIN_TOKEN_ALLOW_JWT_TYP: flag(false),
  IDP_TIMEOUT_MS: integer(100, 30_000, 3_000),
  IDP_HEALTH_MAX_AGE_SECONDS: integer(1, 3_600, 90),
  RAUTH_REGISTRATION_TOKEN: z.optional(z.string().check(z.minLength(16), z.maxLength(4096))),
  RAUTH_REGISTRATION_ENDPOINT: z.optional(issuerUrl),
  RAUTH_REGISTRATION_CREDENTIAL: z._default(z.enum(['initial-access-token', 'client-credentials']), 'initial-access-token'),
  RAUTH_REGISTRATION_SCOPE: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  RAUTH_REGISTRATION_RESOURCE: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
  RAUTH_ADMIN_API_URL: z.optional(issuerUrl),
  RAUTH_SOFTWARE_ID: z._default(z.string().check(z.minLength(1), z.maxLength(255)), 'urn:citadel:iam-service'),
  IDP_MAX_RESPONSE_BYTES: integer(1024, 10_485_760, 262_144),
  CLIENT_TOKEN_KEYS: z.optional(sealKeys),
  RECONCILE_GRACE_SECONDS: integer(0, 86_400, 300),
  RAUTH_ADMIN_CLIENT_ID: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  RAUTH_ADMIN_CLIENT_SECRET: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  NATS_URL: z.optional(webSocketUrl),
  NATS_CONNECT_TIMEOUT_MS: integer(10, 60_000, 2_000),
  NATS_PUBLISH_TIMEOUT_MS: integer(10, 60_000, 1_000),
  EVENTS_AFTER_COMMIT_BUDGET_MS: integer(0, 5_000, 200),
  BOOTSTRAP_ADMIN_SUBJECT: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  ENRICH_API_KEYS_SECRET_ID: z.optional(secretId),
  RAUTH_SECRET_ID: z.optional(secretId),
  NATS_SECRET_ID: z.optional(secretId),
  CLIENT_TOKEN_KEYS_SECRET_ID: z.optional(secretId),
  SECRETS_TTL_SECONDS: integer(0, 86_400, 300),
  SECRETS_MIN_REFRESH_MS: integer(0, 600_000, 5_000),
  SECRETS_TIMEOUT_MS: integer(100, 30_000, 2_000),
  SECRETS_MANAGER_ENDPOINT: z.optional(issuerUrl),
  // `extension`: through the AWS Parameters and Secrets Lambda Extension's local endpoint (README, "Cold starts").
  SECRETS_SOURCE: z._default(z.enum(['secrets-manager', 'extension']), 'secrets-manager'),
  // The extension's own setting (it listens there too); Lambda sets AWS_SESSION_TOKEN, the extension's request token.
  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: integer(1, 65_535, 2_773),
  AWS_SESSION_TOKEN: z.optional(z.string().check(z.maxLength(8192))),
  CLAIMS_NAMESPACE: z._default(z.string().check(z.maxLength(200), z.regex(/^[\x21-\x7e]*$/, 'must be visible ASCII, e.g. https://citadel.example/')), ''),
  CLAIMS_MAX_BYTES: integer(256, 65_536, 4_096),
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
  METRICS_NAMESPACE: z._default(z.string().check(z.minLength(1)), 'Citadel/IamService'),
  // Set per admin function by serverless/service-wide.cjs; checked against the route table by requireAdminOperation().
  ADMIN_OPERATION: z.optional(z.string()),
});

export interface Config {
  readonly database: {
    /** With DATABASE_SECRET_ID: the endpoint (e.g. RDS Proxy) without credentials, or unset (the secret's host). */
    readonly url: string | undefined;
    /** enrich-token may read from a replica; replica lag then bounds revocation delay. */
    readonly readUrl: string | undefined;
    readonly poolMax: number;
    readonly connectTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly queryTimeoutMs: number;
    /** Named prepared statements pin RDS Proxy connections: off unless Postgres is direct. */
    readonly namedStatements: boolean;
  };
  readonly enrichApiKeys: readonly string[];
  /**
   * The upstream IdP (R-Auth). Optional here; the functions that cannot run without it say so at
   * cold start through requireIdpIssuer(), requireClientProvisioning() and requireIdpAdminApi().
   */
  readonly idp: {
    readonly issuer: string | undefined;
    /** `aud` an admin access token must carry. */
    readonly audience: string;
    /** `aud` an end user's token must carry at forward-auth (default: the admin audience). */
    readonly forwardAuthAudience: string;
    /** Signature algorithms accepted on admin tokens (never `none`). */
    readonly algorithms: readonly string[];
    /**
     * Bearer tokens (admin and forward-auth) must be typed `at+jwt` (RFC 9068); true also accepts
     * `typ: JWT`, for IdPs that issue no RFC 9068 tokens. A token without `typ` is always refused.
     */
    readonly allowJwtTyp: boolean;
    readonly timeoutMs: number;
    /**
     * GET /system/idp-health serves the stored probe report while it is younger than this;
     * past it, one caller fleet-wide probes again. Above the schedule's minute, so with the
     * schedule running the route itself never probes.
     */
    readonly healthMaxAgeSeconds: number;
    readonly maxResponseBytes: number;
    /** RFC 7591 initial access token (or in the RAUTH_SECRET_ID secret). */
    readonly registrationToken: string | undefined;
    /**
     * What authorizes registration (and the admin API): a static initial access token
     * (`registrationToken`), or an access token obtained for `adminClient` by the
     * client-credentials grant, with `registrationScope`/`registrationResource` if the IdP wants them.
     */
    readonly registrationCredential: 'initial-access-token' | 'client-credentials';
    readonly registrationScope: string | undefined;
    readonly registrationResource: string | undefined;
    /** The registration endpoint, when discovery does not name it. */
    readonly registrationEndpoint: string | undefined;
    /** The IdP's admin API (Hydra's shape) that lists and deletes clients; reconcile needs it. */
    readonly adminApiUrl: string | undefined;
    /** RFC 7591 `software_id` this service tags its registrations with. */
    readonly softwareId: string;
    /** The service's own client at R-Auth (client-credentials grant); or in the RAUTH_SECRET_ID secret. */
    readonly adminClient: { readonly id: string; readonly secret: string } | undefined;
  };
  /** Domain events: published to JetStream after commit and by the outbox relay. */
  readonly nats: {
    /** Unset: events wait in the outbox; the relay then only sweeps old rows and reports the backlog. */
    readonly url: string | undefined;
    readonly connectTimeoutMs: number;
    readonly publishTimeoutMs: number;
    /** How long a request may wait to publish its events after commit. */
    readonly afterCommitBudgetMs: number;
  };
  readonly clients: {
    /** Keys sealing registration access tokens at rest: `[0]` seals, all open. */
    readonly tokenKeys: ReadonlyArray<{ readonly id: string; readonly base64: string }> | undefined;
    /** Reconcile leaves IdP clients younger than this alone: their create may still be running. */
    readonly reconcileGraceSeconds: number;
  };
  /** Secrets Manager: which secret holds what (unset: the plain variables above hold it, as locally). */
  readonly secrets: {
    readonly ids: {
      readonly database: string | undefined;
      readonly enrichApiKeys: string | undefined;
      readonly idp: string | undefined;
      readonly nats: string | undefined;
      readonly clientTokenKeys: string | undefined;
    };
    readonly ttlSeconds: number;
    /** A forced re-read (after an authentication failure) happens at most this often per secret. */
    readonly minRefreshMs: number;
    readonly timeoutMs: number;
    readonly endpoint: string | undefined;
    /** `extension`: read through the Parameters and Secrets Lambda Extension on localhost, not the SDK. */
    readonly source: 'secrets-manager' | 'extension';
    readonly extension: { readonly url: string; readonly sessionToken: string | undefined };
  };
  /** How gateway dialects put claims into tokens (lib/policy/claim-profile.ts). */
  readonly claims: { readonly namespace: string; readonly maxBytes: number };
  readonly bootstrapAdminSubject: string | undefined;
  /** The admin API operation (a key of lib/admin/routes.ts) this function serves; unset outside the admin functions. */
  readonly adminOperation: string | undefined;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly metricsNamespace: string;
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // An empty variable means "not set": deploy tools often render unset values as ''.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = z.safeParse(envSchema, present);
  const issues = [
    ...(present.DATABASE_URL || present.DATABASE_SECRET_ID ? [] : [{ path: 'DATABASE_URL', message: 'is required (or DATABASE_SECRET_ID naming the credentials secret)' }]),
    ...(present.SECRETS_SOURCE === 'extension' && !present.AWS_SESSION_TOKEN
      ? [{ path: 'AWS_SESSION_TOKEN', message: 'is required by SECRETS_SOURCE=extension (Lambda sets it; the extension checks it on every request)' }]
      : []),
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => ({
          path: issue.path.map(String).join('.') || '(environment)',
          message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
        }))),
  ];
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);
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
      forwardAuthAudience: e.FORWARD_AUTH_AUDIENCE ?? e.ADMIN_TOKEN_AUDIENCE,
      algorithms: e.ADMIN_TOKEN_ALGORITHMS,
      allowJwtTyp: e.ADMIN_TOKEN_ALLOW_JWT_TYP,
      timeoutMs: e.IDP_TIMEOUT_MS,
      healthMaxAgeSeconds: e.IDP_HEALTH_MAX_AGE_SECONDS,
      maxResponseBytes: e.IDP_MAX_RESPONSE_BYTES,
      registrationToken: e.RAUTH_REGISTRATION_TOKEN,
      registrationCredential: e.RAUTH_REGISTRATION_CREDENTIAL,
      registrationScope: e.RAUTH_REGISTRATION_SCOPE,
      registrationResource: e.RAUTH_REGISTRATION_RESOURCE,
      registrationEndpoint: e.RAUTH_REGISTRATION_ENDPOINT,
      adminApiUrl: e.RAUTH_ADMIN_API_URL,
      softwareId: e.RAUTH_SOFTWARE_ID,
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
    clients: {
      tokenKeys: e.CLIENT_TOKEN_KEYS?.map((entry) => {
        const [id, base64] = entry.split(':') as [string, string];
        return { id, base64 };
      }),
      reconcileGraceSeconds: e.RECONCILE_GRACE_SECONDS,
    },
    secrets: {
      ids: {
        database: e.DATABASE_SECRET_ID,
        enrichApiKeys: e.ENRICH_API_KEYS_SECRET_ID,
        idp: e.RAUTH_SECRET_ID,
        nats: e.NATS_SECRET_ID,
        clientTokenKeys: e.CLIENT_TOKEN_KEYS_SECRET_ID,
      },
      ttlSeconds: e.SECRETS_TTL_SECONDS,
      minRefreshMs: e.SECRETS_MIN_REFRESH_MS,
      timeoutMs: e.SECRETS_TIMEOUT_MS,
      endpoint: e.SECRETS_MANAGER_ENDPOINT,
      source: e.SECRETS_SOURCE,
      extension: { url: `http://localhost:${e.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT}`, sessionToken: e.AWS_SESSION_TOKEN },
    },
    claims: { namespace: e.CLAIMS_NAMESPACE, maxBytes: e.CLAIMS_MAX_BYTES },
    bootstrapAdminSubject: e.BOOTSTRAP_ADMIN_SUBJECT,
    adminOperation: e.ADMIN_OPERATION,
    logLevel: e.LOG_LEVEL,
    metricsNamespace: e.METRICS_NAMESPACE,
  });
}

/** What the client functions cannot run without: the issuer, registration credentials and sealing keys. */
export function requireClientProvisioning(config: Config): string {
  const missing = [
    ...(config.idp.issuer ? [] : [{ path: 'RAUTH_URL', message: 'is required by the client functions' }]),
    ...(config.secrets.ids.idp
      ? []
      : config.idp.registrationCredential === 'client-credentials'
        ? config.idp.adminClient
          ? []
          : [{ path: 'RAUTH_ADMIN_CLIENT_ID', message: 'and RAUTH_ADMIN_CLIENT_SECRET are required by RAUTH_REGISTRATION_CREDENTIAL=client-credentials (or RAUTH_SECRET_ID)' }]
        : config.idp.registrationToken
          ? []
          : [{ path: 'RAUTH_REGISTRATION_TOKEN', message: 'is required by the client functions (or RAUTH_SECRET_ID)' }]),
    ...(config.clients.tokenKeys || config.secrets.ids.clientTokenKeys
      ? []
      : [{ path: 'CLIENT_TOKEN_KEYS', message: 'is required by the client functions (or CLIENT_TOKEN_KEYS_SECRET_ID)' }]),
  ];
  if (missing.length > 0) throw new ConfigError(missing);
  return config.idp.issuer!;
}

/** The IdP's admin API, for the client functions: reconcile's inventory, and the way back to a client whose registration access token went stale. */
export function requireIdpAdminApi(config: Config): string {
  if (!config.idp.adminApiUrl) throw new ConfigError([{ path: 'RAUTH_ADMIN_API_URL', message: 'is required by the client functions (admin API of R-Auth)' }]);
  return config.idp.adminApiUrl;
}

/**
 * The operation an admin function serves: `operation` when the caller names one (the local front
 * serves every operation from one process), else ADMIN_OPERATION; it must be one of `served`,
 * the operations of the function's bundle (lib/admin/routes.ts).
 */
export function requireAdminOperation<O extends string>(config: Config, bundle: string, served: readonly O[], operation = config.adminOperation): O {
  if (operation !== undefined && (served as readonly string[]).includes(operation)) return operation as O;
  throw new ConfigError([{ path: 'ADMIN_OPERATION', message: `must name an operation of the ${bundle} bundle (${served.join(', ')}), not "${operation ?? ''}"` }]);
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
