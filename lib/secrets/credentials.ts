/**
 * Every credential the service uses, each from one place: the secret configuration names
 * (Secrets Manager, in AWS) or else the plain variable (locally, `npm start`). Each source is
 * a function; `{ fresh: true }` re-reads the secret after an authentication failure, so a
 * rotated credential is picked up without a restart. Secret values are parsed strictly and
 * a malformed one is reported by secret id, never by value.
 */
import type { Config } from '../config.js';
import * as z from '../schema.js';
import { type SecretStore, SecretUnavailableError } from './ports.js';

export type Source<T> = (options?: { fresh?: boolean }) => Promise<T>;

/** RDS's secret format (AWS rotation templates, including alternating users, keep it). */
export interface DatabaseCredentials {
  username: string;
  password: string;
  host?: string | undefined;
  port?: number | undefined;
  dbname?: string | undefined;
}

export interface IdpCredentials {
  /** RFC 7591 initial access token. */
  registrationToken: string | undefined;
  /** The service's own client at R-Auth (health probe). */
  adminClient: { id: string; secret: string } | undefined;
}

export interface NatsCredentials {
  token?: string | undefined;
  user?: string | undefined;
  pass?: string | undefined;
}

export interface SealKeyText {
  id: string;
  base64: string;
}

export interface Credentials {
  /** Undefined: DATABASE_URL carries its own credentials. */
  database: Source<DatabaseCredentials> | undefined;
  enrichApiKeys: Source<readonly string[]>;
  idp: Source<IdpCredentials>;
  nats: Source<NatsCredentials | undefined>;
  clientTokenKeys: Source<readonly SealKeyText[] | undefined>;
}

const text = z.string().check(z.minLength(1), z.maxLength(4096));
const databaseSecret = z.object({
  username: text,
  password: text,
  host: z.optional(text),
  port: z.optional(z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d{1,5}$/)), z.transform(Number))])),
  dbname: z.optional(text),
});
const idpSecret = z.object({
  registration_token: z.optional(text),
  admin_client_id: z.optional(text),
  admin_client_secret: z.optional(text),
});
const natsSecret = z.object({ token: z.optional(text), user: z.optional(text), pass: z.optional(text) });
const apiKeysSecret = z.union([z.array(z.string().check(z.minLength(32))), z.object({ keys: z.array(z.string().check(z.minLength(32))) })]);
const SEAL_KEY = /^([A-Za-z0-9_-]{1,64}):([A-Za-z0-9+/=_-]{40,64})$/;

export function credentials(config: Config, store: SecretStore | undefined): Credentials {
  const ids = config.secrets.ids;
  /** A source reading secret `id` (when configured) and parsing it, else a constant from configuration. */
  const source = <T>(id: string | undefined, parse: (value: string) => T | undefined, expected: string, fallback: T): Source<T> => {
    if (!id) return async () => fallback;
    if (!store) throw new Error('a secret is configured but no secret store was given');
    return async (options) => {
      const parsed = parse(await store.read(id, options));
      if (parsed === undefined) throw new SecretUnavailableError(id, `malformed value (expected ${expected})`);
      return parsed;
    };
  };
  const json = <S extends z.ZodMiniType>(schema: S) => (value: string): z.infer<S> | undefined => {
    try {
      const result = z.safeParse(schema, JSON.parse(value));
      return result.success ? result.data : undefined;
    } catch {
      return undefined;
    }
  };
  const idpFromConfig: IdpCredentials = { registrationToken: config.idp.registrationToken, adminClient: config.idp.adminClient };
  return {
    database: ids.database ? source(ids.database, json(databaseSecret), 'JSON with username and password, as RDS writes it', { username: '', password: '' }) : undefined,
    enrichApiKeys: source(
      ids.enrichApiKeys,
      (value) => {
        const parsed = json(apiKeysSecret)(value) ?? value.split(',').map((key) => key.trim()).filter(Boolean);
        const keys = Array.isArray(parsed) ? parsed : parsed.keys;
        return keys.length > 0 && keys.every((key) => key.length >= 32) ? keys : undefined;
      },
      'API keys of 32 or more characters: a JSON array, {"keys": [...]} or a comma-separated list',
      config.enrichApiKeys,
    ),
    idp: source(
      ids.idp,
      (value) => {
        const secret = json(idpSecret)(value);
        if (!secret) return undefined;
        const { admin_client_id: id, admin_client_secret: clientSecret } = secret;
        return {
          registrationToken: secret.registration_token ?? config.idp.registrationToken,
          adminClient: id && clientSecret ? { id, secret: clientSecret } : config.idp.adminClient,
        };
      },
      'JSON with registration_token and/or admin_client_id and admin_client_secret',
      idpFromConfig,
    ),
    nats: source(ids.nats, json(natsSecret), 'JSON with token, or user and pass', undefined),
    clientTokenKeys: source(
      ids.clientTokenKeys,
      (value) => {
        const keys = value.split(',').map((entry) => SEAL_KEY.exec(entry.trim()));
        if (keys.length === 0 || keys.some((match) => !match || Buffer.from(match[2]!, 'base64').length !== 32)) return undefined;
        return keys.map((match) => ({ id: match![1]!, base64: match![2]! }));
      },
      '<key id>:<32 bytes in base64>, comma-separated, the sealing key first',
      config.clients.tokenKeys,
    ),
  };
}
