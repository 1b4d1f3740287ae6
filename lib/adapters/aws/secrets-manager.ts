/**
 * SecretStore on AWS Secrets Manager, through Powertools' parameters cache (BaseProvider: a TTL
 * cache that loads lazily and starts no timers) over one of two readers:
 *
 * - `secrets-manager` (default): GetSecretValue with the AWS SDK. The SDK is imported on the first
 *   read, not at cold start: it is most of a function's module init (README, "Cold starts").
 * - `extension`: the AWS Parameters and Secrets Lambda Extension's local endpoint
 *   (`GET /secretsmanager/get?secretId=…` with `X-Aws-Parameters-Secrets-Token`), which answers
 *   GetSecretValue's JSON; the SDK is never loaded.
 *
 * Invariants, whichever reader:
 *
 * - One read per secret id at a time: reads that reach the reader together share it.
 * - `fresh` forces a re-read at most once per `minRefreshIntervalMs` per id, counting every
 *   request for that id; inside the interval it is an ordinary cached read. A spray of unknown
 *   API keys therefore costs Secrets Manager at most one request per interval.
 * - A *fresh* read that fails while the cached value is still within its TTL returns that value:
 *   freshness is best effort, and a Secrets Manager blip must neither break requests that work
 *   nor turn an unknown API key's 401 into a 503. No value is ever served past its TTL.
 * - Every request is bounded: `timeoutMs` to connect and to answer (the SDK: at most 2 attempts).
 * - A failure is a SecretUnavailableError with a short reason, and each failed request logs one
 *   warn line naming the secret id and reason, never a value.
 *
 * In Lambda, region and credentials come from the environment: leave those options undefined.
 */
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import type { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../observability/logger.js';
import { type SecretStore, SecretUnavailableError } from '../../secrets/ports.js';

export interface SecretsManagerStoreOptions {
  ttlSeconds: number;
  minRefreshIntervalMs: number;
  timeoutMs: number;
  endpoint?: string | undefined;
  region?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Read through the Parameters and Secrets Lambda Extension instead of the SDK. */
  extension?: { url: string; sessionToken: string } | undefined;
  log: Logger;
}

/** One network read of a secret, and a short reason for its failures. */
interface SecretReader {
  read(secretId: string): Promise<string | Uint8Array | undefined>;
  reasonOf(error: unknown): string;
}

export function secretsManagerStore(options: SecretsManagerStoreOptions): SecretStore {
  const { ttlSeconds, minRefreshIntervalMs, log } = options;
  const reader = options.extension ? extensionReader(options.extension, options.timeoutMs) : sdkReader(options);
  const provider = new SharedRequestProvider(reader, ttlSeconds * 1000, log);

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

/** GetSecretValue with the AWS SDK, imported (and its client built) on the first read. */
function sdkReader(options: SecretsManagerStoreOptions): SecretReader {
  const { timeoutMs } = options;
  let loaded: Promise<{ sdk: typeof import('@aws-sdk/client-secrets-manager'); client: import('@aws-sdk/client-secrets-manager').SecretsManagerClient }> | undefined;
  let ServiceException: typeof SecretsManagerServiceException | undefined;
  const load = () =>
    (loaded ??= import('@aws-sdk/client-secrets-manager').then(
      (sdk) => {
        ServiceException = sdk.SecretsManagerServiceException;
        const client = new sdk.SecretsManagerClient({
          region: options.region,
          endpoint: options.endpoint,
          credentials: options.credentials,
          maxAttempts: 2,
          // Options for the SDK's own NodeHttpHandler. Without throwOnRequestTimeout an overdue
          // answer only logs a warning and the request waits on.
          requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
        });
        return { sdk, client };
      },
      (error: unknown) => {
        loaded = undefined; // a failed import is tried again on the next read
        throw error;
      },
    ));
  return {
    async read(secretId) {
      const { sdk, client } = await load();
      const result = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
      return result.SecretString ?? result.SecretBinary;
    },
    reasonOf(error) {
      // The code Secrets Manager answered: ResourceNotFoundException, AccessDeniedException, …
      if (ServiceException && error instanceof ServiceException) return error.name;
      if ((error as { name?: unknown } | null)?.name === 'CredentialsProviderError') return 'no AWS credentials';
      return transportReason(error);
    },
  };
}

/** The extension's HTTP interface; its answer to GetSecretValue is GetSecretValue's own JSON. */
function extensionReader(extension: { url: string; sessionToken: string }, timeoutMs: number): SecretReader {
  return {
    async read(secretId) {
      const response = await fetch(`${extension.url}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`, {
        headers: { 'X-Aws-Parameters-Secrets-Token': extension.sessionToken },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) throw new ExtensionRefusal(response.status, text);
      const body = JSON.parse(text) as { SecretString?: unknown; SecretBinary?: unknown };
      if (typeof body.SecretString === 'string') return body.SecretString;
      // SecretBinary is base64 in the JSON protocol.
      return typeof body.SecretBinary === 'string' ? Buffer.from(body.SecretBinary, 'base64') : undefined;
    },
    reasonOf(error) {
      if (error instanceof ExtensionRefusal) return error.message;
      if (error instanceof SyntaxError) return 'extension answered no JSON';
      return transportReason(error);
    },
  };
}

/** A non-200 answer of the extension: its status, and the error type Secrets Manager gave it, if any. */
class ExtensionRefusal extends Error {
  constructor(status: number, body: string) {
    let type: unknown;
    try {
      type = (JSON.parse(body) as { __type?: unknown } | null)?.__type;
    } catch {
      type = undefined; // a plain-text refusal: the status says enough
    }
    // Only a short code-like type reaches the message (and the log), never the body itself.
    super(`extension answered ${status}${typeof type === 'string' && /^[\w#.:-]{1,100}$/.test(type) ? ` (${type})` : ''}`);
    this.name = 'ExtensionRefusal';
  }
}

/**
 * A short reason for a failure below the service: a deadline, or the connection. Only the text
 * depends on it (the status is 503 whatever it says).
 */
function transportReason(error: unknown): string {
  // Not `instanceof Error`: fetch's errors (TypeError, DOMException) may come from another realm.
  if (typeof error !== 'object' || error === null) return 'unexpected error';
  const { name, code, cause } = error as { name?: unknown; code?: unknown; cause?: { code?: unknown } };
  // @smithy/node-http-handler's connect and answer deadlines, and AbortSignal.timeout's.
  if (name === 'TimeoutError') return 'timed out';
  const reason = code ?? cause?.code;
  return typeof reason === 'string' ? `unreachable (${reason})` : 'unreachable';
}

/**
 * Powertools' way to bring a store of one's own: BaseProvider keeps the cache (`maxAge`,
 * `forceFetch`), and every network read passes through `_get`, whether the cache expired or the
 * caller forced it.
 */
class SharedRequestProvider extends BaseProvider {
  /** When the latest request for each id started (successful or not). */
  readonly requestedAt = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<string | Uint8Array | undefined>>();
  readonly #lastGood = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly reader: SecretReader,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    super({});
  }

  /** The last value read, if it is still within its TTL. */
  unexpired(secretId: string): string | undefined {
    const good = this.#lastGood.get(secretId);
    return good && Date.now() < good.until ? good.value : undefined;
  }

  protected override _get(secretId: string): Promise<string | Uint8Array | undefined> {
    let pending = this.#inFlight.get(secretId);
    if (!pending) {
      this.requestedAt.set(secretId, Date.now());
      pending = this.reader.read(secretId).then(
        (value) => {
          if (typeof value === 'string') this.#lastGood.set(secretId, { value, until: Date.now() + this.ttlMs });
          return value;
        },
        (error: unknown) => {
          const reason = this.reader.reasonOf(error);
          // The SDK's and fetch's messages name the secret and the failure, never a value.
          this.log.warn('secret read from Secrets Manager failed', { secretId, reason }, error);
          throw new SecretUnavailableError(secretId, reason, error);
        },
      );
      this.#inFlight.set(secretId, pending);
      void pending.finally(() => this.#inFlight.delete(secretId)).catch(() => {});
    }
    return pending;
  }

  protected override _getMultiple(): Promise<undefined> {
    throw new Error('Secrets Manager has no "get multiple"');
  }
}
