/**
 * SecretStore on AWS Secrets Manager, through Powertools' SecretsProvider (a TTL cache that
 * loads lazily and starts no timers). Invariants:
 *
 * - One GetSecretValue per secret id at a time: reads that reach the network together share it.
 * - `fresh` forces a re-read at most once per `minRefreshIntervalMs` per id, counting every
 *   request for that id; inside the interval it is an ordinary cached read. A spray of unknown
 *   API keys therefore costs Secrets Manager at most one request per interval.
 * - A *fresh* read that fails while the cached value is still within its TTL returns that value:
 *   freshness is best effort, and a Secrets Manager blip must neither break requests that work
 *   nor turn an unknown API key's 401 into a 503. No value is ever served past its TTL.
 * - Every request is bounded: `timeoutMs` to connect and to answer, at most 2 attempts.
 * - A failure is a SecretUnavailableError with a short reason, and each failed request logs one
 *   warn line naming the secret id and reason, never a value.
 *
 * In Lambda, region and credentials come from the environment: leave those options undefined.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsGetOptions } from '@aws-lambda-powertools/parameters/secrets/types';
import { SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../observability/logger.js';
import { type SecretStore, SecretUnavailableError } from '../../secrets/ports.js';

export interface SecretsManagerStoreOptions {
  ttlSeconds: number;
  minRefreshIntervalMs: number;
  timeoutMs: number;
  endpoint?: string | undefined;
  region?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  log: Logger;
}

export function secretsManagerStore(options: SecretsManagerStoreOptions): SecretStore {
  const { ttlSeconds, minRefreshIntervalMs, timeoutMs, log } = options;
  const client = new SecretsManagerClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: 2,
    // Options for the SDK's own NodeHttpHandler. Without throwOnRequestTimeout an overdue
    // answer only logs a warning and the request waits on.
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  });
  const provider = new SharedRequestProvider(client, ttlSeconds * 1000, log);

  return {
    async read(secretId, { fresh = false } = {}) {
      const lastRequest = provider.requestedAt.get(secretId);
      const force = fresh && (lastRequest === undefined || Date.now() - lastRequest >= minRefreshIntervalMs);
      let value: unknown;
      try {
        value = await provider.get(secretId, { maxAge: ttlSeconds, forceFetch: force });
      } catch (error) {
        const kept = force ? provider.unexpired(secretId) : undefined;
        if (kept !== undefined) return kept;
        throw error instanceof Error && error.cause instanceof SecretUnavailableError
          ? error.cause
          : new SecretUnavailableError(secretId, 'unexpected error', error);
      }
      if (typeof value === 'string') return value;
      throw new SecretUnavailableError(secretId, value === undefined ? 'no SecretString' : 'binary secret, not a SecretString');
    },
  };
}

/**
 * `_get` is Powertools' documented extension point: every network read passes through it,
 * whether the cache expired or the caller forced it.
 */
class SharedRequestProvider extends SecretsProvider {
  /** When the latest request for each id started (successful or not). */
  readonly requestedAt = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<string | Uint8Array | undefined>>();
  readonly #lastGood = new Map<string, { value: string; until: number }>();

  constructor(
    client: SecretsManagerClient,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    super({ awsSdkV3Client: client });
  }

  /** The last value read, if it is still within its TTL. */
  unexpired(secretId: string): string | undefined {
    const good = this.#lastGood.get(secretId);
    return good && Date.now() < good.until ? good.value : undefined;
  }

  protected override _get(secretId: string, options?: SecretsGetOptions): Promise<string | Uint8Array | undefined> {
    let pending = this.#inFlight.get(secretId);
    if (!pending) {
      this.requestedAt.set(secretId, Date.now());
      pending = super._get(secretId, options).then(
        (value) => {
          if (typeof value === 'string') this.#lastGood.set(secretId, { value, until: Date.now() + this.ttlMs });
          return value;
        },
        (error: unknown) => {
          const reason = reasonOf(error);
          // The SDK's messages name the secret and the failure, never a value.
          this.log.warn('secret read from Secrets Manager failed', { secretId, reason }, error);
          throw new SecretUnavailableError(secretId, reason, error);
        },
      );
      this.#inFlight.set(secretId, pending);
      void pending.finally(() => this.#inFlight.delete(secretId)).catch(() => {});
    }
    return pending;
  }
}

/**
 * A short reason for the error message and the log. Only the text depends on it (the status is
 * 503 whatever it says), so the SDK's own error names are good enough here.
 */
function reasonOf(error: unknown): string {
  // The code Secrets Manager answered: ResourceNotFoundException, AccessDeniedException, …
  if (error instanceof SecretsManagerServiceException) return error.name;
  if (!(error instanceof Error)) return 'unexpected error';
  if (error.name === 'TimeoutError') return 'timed out'; // @smithy/node-http-handler's connect and answer deadlines
  if (error.name === 'CredentialsProviderError') return 'no AWS credentials';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `unreachable (${code})` : 'unreachable';
}
