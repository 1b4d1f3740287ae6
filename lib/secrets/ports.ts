/**
 * Where credentials come from: in AWS, Secrets Manager (lib/adapters/aws/secrets-manager.ts);
 * the environment only names the secrets. Values are cached; `fresh` reads again at once, which
 * callers do after an authentication failure (Postgres 28P01, IdP 401, an unknown API key), so a
 * rotated secret needs no redeploy or restart.
 */
import { AppError } from '../errors.js';

export interface SecretStore {
  /** The secret's current SecretString. Cached for the store's TTL unless `fresh`. */
  read(secretId: string, options?: { fresh?: boolean }): Promise<string>;
}

/** The secret store could not be read (unreachable, denied, missing secret). Names the secret, never a value. */
export class SecretUnavailableError extends AppError {
  readonly secretId: string;
  constructor(secretId: string, reason: string, cause?: unknown) {
    super(503, 'dependency-unavailable', 'Service Unavailable', `Secret "${secretId}" could not be read from the secret store: ${reason}.`, {
      cause,
      headers: { 'retry-after': '1' },
    });
    this.secretId = secretId;
  }
}
