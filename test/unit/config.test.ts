import { describe, expect, it } from '@jest/globals';
import { loadConfig, requireClientProvisioning } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

const valid = { DATABASE_URL: 'postgres://iam:secret@db.internal:5432/iam' };

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies Lambda-sized defaults', () => {
    const config = loadConfig(valid);
    expect(config.database).toMatchObject({ url: valid.DATABASE_URL, readUrl: valid.DATABASE_URL, poolMax: 2, namedStatements: false });
    expect(config.enrichApiKeys).toEqual([]);
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('authorizes registration by a static initial access token unless told to use the client-credentials grant', () => {
    const clients = { ...valid, RAUTH_URL: 'https://rauth.example', CLIENT_TOKEN_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` };
    const provisioning = (env: Record<string, string>) => {
      try {
        return requireClientProvisioning(loadConfig(env));
      } catch (error) {
        return (error as ConfigError).issues.map((i) => i.path);
      }
    };
    expect(loadConfig(valid).idp.registrationCredential).toBe('initial-access-token');
    expect(provisioning(clients)).toEqual(['RAUTH_REGISTRATION_TOKEN']);
    expect(provisioning({ ...clients, RAUTH_REGISTRATION_TOKEN: 'a-static-initial-access-token' })).toBe('https://rauth.example');

    const grant = { ...clients, RAUTH_REGISTRATION_CREDENTIAL: 'client-credentials', RAUTH_REGISTRATION_SCOPE: 'client-registration' };
    expect(provisioning(grant)).toEqual(['RAUTH_ADMIN_CLIENT_ID']);
    expect(provisioning({ ...grant, RAUTH_ADMIN_CLIENT_ID: 'iam-service', RAUTH_ADMIN_CLIENT_SECRET: 'its-secret' })).toBe('https://rauth.example');
    expect(provisioning({ ...grant, RAUTH_SECRET_ID: 'iam-service/dev/rauth' })).toBe('https://rauth.example');
    expect(loadConfig(grant).idp).toMatchObject({ registrationCredential: 'client-credentials', registrationScope: 'client-registration' });
    expect(issuesOf({ ...valid, RAUTH_REGISTRATION_CREDENTIAL: 'password' })).toEqual([expect.stringMatching(/^RAUTH_REGISTRATION_CREDENTIAL: /)]);
  });

  it('names DATABASE_URL when it is missing', () => {
    expect(issuesOf({})).toEqual(['DATABASE_URL: is required (or DATABASE_SECRET_ID naming the credentials secret)']);
  });

  it('checks end-user tokens at forward-auth for their own audience, the admin one unless told', () => {
    expect(loadConfig(valid).idp.forwardAuthAudience).toBe('urn:citadel:iam');
    expect(loadConfig({ ...valid, FORWARD_AUTH_AUDIENCE: 'https://api.example' }).idp).toMatchObject({ audience: 'urn:citadel:iam', forwardAuthAudience: 'https://api.example' });
  });

  it('accepts only RFC 9068 access tokens (typ at+jwt) unless ADMIN_TOKEN_ALLOW_JWT_TYP also admits typ JWT', () => {
    expect(loadConfig(valid).idp.allowJwtTyp).toBe(false);
    expect(loadConfig({ ...valid, ADMIN_TOKEN_ALLOW_JWT_TYP: 'true' }).idp.allowJwtTyp).toBe(true);
    expect(issuesOf({ ...valid, ADMIN_TOKEN_ALLOW_JWT_TYP: 'yes' })).toEqual([expect.stringMatching(/^ADMIN_TOKEN_ALLOW_JWT_TYP: /)]);
  });

  it('takes the database credentials from a secret instead, the URL then naming only the endpoint', () => {
    const config = loadConfig({ DATABASE_SECRET_ID: 'iam/prod/database', DATABASE_URL: 'postgres://proxy.internal:5432/iam?sslmode=require' });
    expect(config.secrets.ids.database).toBe('iam/prod/database');
    expect(loadConfig({ DATABASE_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:iam/db-AbCdEf' }).database.url).toBeUndefined();
    expect(issuesOf({ DATABASE_SECRET_ID: 'has spaces' })).toEqual([expect.stringMatching(/^DATABASE_SECRET_ID: must be a Secrets Manager secret name or ARN/)]);
  });

  it('names DATABASE_URL and says what is wrong when it is malformed', () => {
    const [issue] = issuesOf({ DATABASE_URL: 'mysql//nope' });
    expect(issue).toMatch(/^DATABASE_URL: must be a postgres:\/\/ URL/);
  });

  it('reports every bad variable at once', () => {
    const issues = issuesOf({ DATABASE_URL: 'nope', DB_POOL_MAX: 'many', LOG_LEVEL: 'loud', ENRICH_API_KEYS: 'short' });
    expect(issues.map((i) => i.split(':')[0])).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'DB_POOL_MAX', 'LOG_LEVEL', 'ENRICH_API_KEYS.0']),
    );
    expect(issues).toHaveLength(4);
  });

  it('never echoes a secret value in its messages', () => {
    const key = 'k'.repeat(20);
    const issues = issuesOf({ ...valid, ENRICH_API_KEYS: key });
    expect(issues.join(' ')).not.toContain(key);
  });

  it('reads a replica URL and comma-separated API keys', () => {
    const config = loadConfig({
      ...valid,
      DATABASE_READ_URL: 'postgres://iam@replica:5432/iam',
      ENRICH_API_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(40)}`,
      DB_NAMED_STATEMENTS: 'true',
    });
    expect(config.database.readUrl).toBe('postgres://iam@replica:5432/iam');
    expect(config.enrichApiKeys).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
    expect(config.database.namedStatements).toBe(true);
  });

  it('refuses an IdP issuer over plain http off loopback and a NATS URL that is not a websocket', () => {
    expect(issuesOf({ ...valid, RAUTH_URL: 'http://r-auth.example.com', NATS_URL: 'nats://127.0.0.1:4222' })).toEqual([
      'RAUTH_URL: must be the IdP issuer URL, https:// (http:// only on loopback)',
      'NATS_URL: must be a ws:// or wss:// URL of the NATS websocket listener',
    ]);
    expect(loadConfig({ ...valid, RAUTH_URL: 'http://127.0.0.1:4100', NATS_URL: 'wss://nats.internal:443' })).toMatchObject({
      idp: { issuer: 'http://127.0.0.1:4100' },
      nats: { url: 'wss://nats.internal:443', afterCommitBudgetMs: 200 },
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...valid, DB_POOL_MAX: '', DATABASE_READ_URL: '' }).database).toMatchObject({ poolMax: 2, readUrl: valid.DATABASE_URL });
  });
});
