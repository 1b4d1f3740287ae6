/**
 * A Secrets Manager stand-in on 127.0.0.1:0 speaking the service's JSON 1.1 protocol, so tests
 * run the real SDK (and Powertools) without AWS. It answers GetSecretValue only: `POST /` with
 * `X-Amz-Target: secretsmanager.GetSecretValue` and `{"SecretId": …}`. `behave` stages an
 * outage ('down': 500 InternalServiceError) or a hang (no answer ever); `reads` counts the
 * GetSecretValue requests that arrived, whatever the answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@jest/globals';
import type { SecretsManagerStoreOptions } from '../../lib/adapters/aws/secrets-manager.js';
import type { Logger } from '../../lib/observability/logger.js';
import { SecretUnavailableError } from '../../lib/secrets/ports.js';

export type SecretsManagerBehaviour = 'honest' | 'down' | 'hang';

export interface SecretsManagerStandIn {
  /** http://127.0.0.1:<port>, the client's `endpoint`. */
  endpoint: string;
  /** Creates the secret or rotates it: a new VersionId becomes AWSCURRENT. Bytes make a binary secret. */
  put(id: string, value: string | Uint8Array): void;
  /** GetSecretValue requests received, for one secret id or in all. */
  reads(id?: string): number;
  behave(mode: SecretsManagerBehaviour): void;
  stop(): Promise<void>;
}

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const JSON_11 = 'application/x-amz-json-1.1';

export async function startSecretsManager(): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, { value: string | Uint8Array; versionId: string; created: number }>();
  const readCounts = new Map<string, number>();
  let mode: SecretsManagerBehaviour = 'honest';
  let versions = 0;

  const server = createServer((req, res) => {
    void body(req).then(handle, () => res.destroy());

    function handle(text: string): void {
      if (req.method !== 'POST' || req.url !== '/' || req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        return answer(res, 400, { __type: 'UnknownOperationException', message: 'The stand-in answers GetSecretValue only.' });
      }
      const secretId = parseSecretId(text);
      if (secretId === undefined) return answer(res, 400, { __type: 'ValidationException', message: 'SecretId is required.' });
      readCounts.set(secretId, (readCounts.get(secretId) ?? 0) + 1);
      if (mode === 'hang') return; // the client's deadline ends it
      if (mode === 'down') return answer(res, 500, { __type: 'InternalServiceError', message: 'An error occurred on the server side.' });
      const secret = secrets.get(secretId);
      if (!secret) return answer(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      answer(res, 200, {
        ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${secretId}-AbCdEf`,
        Name: secretId,
        // A binary secret has SecretBinary (base64 on the wire) and no SecretString.
        ...(typeof secret.value === 'string' ? { SecretString: secret.value } : { SecretBinary: Buffer.from(secret.value).toString('base64') }),
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.created, // epoch seconds, as the JSON protocol sends timestamps
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    put(id, value) {
      versions += 1;
      secrets.set(id, { value, versionId: `00000000-0000-4000-8000-${String(versions).padStart(12, '0')}`, created: Date.now() / 1000 });
    },
    reads(id) {
      if (id !== undefined) return readCounts.get(id) ?? 0;
      return [...readCounts.values()].reduce((sum, n) => sum + n, 0);
    },
    behave(next) {
      mode = next;
    },
    stop() {
      // Hanging requests hold their sockets open; close them so close() can finish.
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * What a test passes to secretsManagerStore: the stand-in's endpoint, an explicit region and
 * static dummy credentials, so the SDK neither reaches AWS nor looks for credentials (the
 * EC2/ECS metadata endpoints among them).
 */
export function standInOptions(
  standIn: Pick<SecretsManagerStandIn, 'endpoint'>,
  log: Logger,
  tuning: Partial<Pick<SecretsManagerStoreOptions, 'ttlSeconds' | 'minRefreshIntervalMs' | 'timeoutMs'>> = {},
): SecretsManagerStoreOptions {
  return {
    ttlSeconds: 300,
    minRefreshIntervalMs: 1000,
    timeoutMs: 500,
    ...tuning,
    endpoint: standIn.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret-access-key' },
    log,
  };
}

function parseSecretId(text: string): string | undefined {
  try {
    const { SecretId } = JSON.parse(text) as { SecretId?: unknown };
    return typeof SecretId === 'string' && SecretId !== '' ? SecretId : undefined;
  } catch {
    return undefined;
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': JSON_11 });
  res.end(JSON.stringify(payload));
}

/** What a read that must fail failed with: a SecretUnavailableError (whichever reader the store has). */
export async function unavailable(read: Promise<unknown>): Promise<SecretUnavailableError> {
  const error = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SecretUnavailableError);
  return error as SecretUnavailableError;
}
