/**
 * The environment the functions get under `npm start`, as Lambda gives them theirs, and its
 * check with the functions' own schema (lib/config.ts) before `npm start` writes anything to
 * .local: a value that would fail every cold start fails `npm start` at once, by name.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../lib/config.js';
import { ConfigError } from '../lib/errors.js';

export type Env = Record<string, string | undefined>;

export interface FunctionEnvParts {
  databaseUrl: string;
  /** ENRICH_API_KEYS: what the caller gave, else the key kept in .local. */
  apiKeys: string;
  bootstrapAdminSubject: string;
  issuer: string;
  audience: string;
  /** The service's own client at the dev IdP (health probe). */
  adminClient?: { client_id: string; client_secret: string } | undefined;
  /** With the dev IdP: its initial access token and admin API. */
  devIdpRegistration?: { token: string; adminApiUrl: string } | undefined;
  /** The sealing key kept in .local, unless CLIENT_TOKEN_KEYS is given. */
  clientTokenKey: string;
  natsUrl?: string | undefined;
}

export function functionEnv(env: Env, parts: FunctionEnvParts): Env {
  return {
    DATABASE_URL: parts.databaseUrl,
    ENRICH_API_KEYS: parts.apiKeys,
    BOOTSTRAP_ADMIN_SUBJECT: parts.bootstrapAdminSubject,
    RAUTH_URL: parts.issuer,
    ADMIN_TOKEN_AUDIENCE: parts.audience,
    ...(parts.adminClient ? { RAUTH_ADMIN_CLIENT_ID: parts.adminClient.client_id, RAUTH_ADMIN_CLIENT_SECRET: parts.adminClient.client_secret } : {}),
    // Client registration at the dev IdP (an external IdP takes these from the environment).
    ...(parts.devIdpRegistration ? { RAUTH_REGISTRATION_TOKEN: parts.devIdpRegistration.token, RAUTH_ADMIN_API_URL: parts.devIdpRegistration.adminApiUrl } : {}),
    CLIENT_TOKEN_KEYS: env.CLIENT_TOKEN_KEYS || `local:${parts.clientTokenKey}`,
    ...(parts.natsUrl ? { NATS_URL: parts.natsUrl } : {}),
  };
}

/** What .local keeps that ends up in the functions' environment. */
export interface KeptSecrets {
  api_key?: string | undefined;
  client_token_key?: string | undefined;
}

export interface CheckedSecrets {
  apiKey: string;
  clientTokenKey: string;
  /** One sentence per kept value that failed the schema and was replaced. */
  repaired: string[];
}

export const newApiKey = () => randomBytes(32).toString('base64url');
export const newSealKey = () => randomBytes(32).toString('base64');

/**
 * Checks the functions' environment as it will be (`draft` builds it from the secrets) and
 * throws the ConfigError the functions would log. A value kept in .local that fails (saved by an
 * older npm start that did not check) is replaced and reported, never a reason to fail forever;
 * a value the caller gives is never replaced.
 */
export function checkFunctionEnv(env: Env, kept: KeptSecrets, given: { apiKeys?: string | undefined }, draft: (secrets: CheckedSecrets) => Env): CheckedSecrets {
  const secrets: CheckedSecrets = {
    apiKey: given.apiKeys?.split(',')[0]?.trim() || kept.api_key || newApiKey(),
    clientTokenKey: kept.client_token_key || newSealKey(),
    repaired: [],
  };
  const check = () => loadConfig({ ...env, ...draft(secrets) });
  try {
    check();
    return secrets;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const bad = (variable: string) => error.issues.find((issue) => issue.path === variable || issue.path.startsWith(`${variable}.`));
    const apiKeyIssue = !given.apiKeys && kept.api_key ? bad('ENRICH_API_KEYS') : undefined;
    if (apiKeyIssue) {
      secrets.apiKey = newApiKey();
      secrets.repaired.push(`the API key kept in state.json failed ENRICH_API_KEYS (${apiKeyIssue.message}): replaced with a new one`);
    }
    const sealIssue = !env.CLIENT_TOKEN_KEYS && kept.client_token_key ? bad('CLIENT_TOKEN_KEYS') : undefined;
    if (sealIssue) {
      secrets.clientTokenKey = newSealKey();
      secrets.repaired.push(`the sealing key kept in state.json failed CLIENT_TOKEN_KEYS (${sealIssue.message}): replaced with a new one`);
    }
    if (secrets.repaired.length === 0) throw error;
    check(); // whatever else is wrong is the caller's
    return secrets;
  }
}
