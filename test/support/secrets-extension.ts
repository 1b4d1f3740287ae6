/**
 * A stand-in for the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint, on
 * 127.0.0.1:0, speaking its interface for Secrets Manager
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html):
 *
 * - `GET /secretsmanager/get?secretId=<name or ARN>` (URL-encoded);
 * - the `X-Aws-Parameters-Secrets-Token` header must carry the function's AWS_SESSION_TOKEN,
 *   else 401 and no secret;
 * - 200 with GetSecretValue's own JSON (ARN, Name, VersionId, SecretString or base64 SecretBinary,
 *   VersionStages, CreatedDate);
 * - a Secrets Manager error is passed on with its status and JSON body (`__type`, `message`);
 *   a request without secretId is 400.
 *
 * `behave` stages a hang (no answer ever); `reads` counts requests that carried the right token.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EXTENSION_TOKEN_HEADER = 'x-aws-parameters-secrets-token';

export interface SecretsExtensionStandIn {
  /** http://127.0.0.1:<port>, where the extension's `localhost:2773` would be. */
  url: string;
  /** The token the stand-in accepts (the function's AWS_SESSION_TOKEN). */
  sessionToken: string;
  put(id: string, value: string | Uint8Array): void;
  reads(id?: string): number;
  behave(mode: 'honest' | 'hang'): void;
  stop(): Promise<void>;
}

export async function startSecretsExtension(sessionToken = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN'): Promise<SecretsExtensionStandIn> {
  const secrets = new Map<string, { value: string | Uint8Array; versionId: string }>();
  const readCounts = new Map<string, number>();
  let mode: 'honest' | 'hang' = 'honest';
  let versions = 0;

  const server = createServer((req, res) => {
    const answer = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' || url.pathname !== '/secretsmanager/get') return answer(404, { message: 'not found' });
    if (req.headers[EXTENSION_TOKEN_HEADER] !== sessionToken) return answer(401, { message: 'Unauthorized: X-Aws-Parameters-Secrets-Token' });
    const secretId = url.searchParams.get('secretId');
    if (!secretId) return answer(400, { message: 'secretId is required' });
    readCounts.set(secretId, (readCounts.get(secretId) ?? 0) + 1);
    if (mode === 'hang') return; // the client's deadline ends it
    const secret = secrets.get(secretId);
    if (!secret) return answer(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    answer(200, {
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secretId}-AbCdEf`,
      Name: secretId,
      ...(typeof secret.value === 'string' ? { SecretString: secret.value } : { SecretBinary: Buffer.from(secret.value).toString('base64') }),
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: '2026-01-01T00:00:00Z',
      ResultMetadata: {},
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    sessionToken,
    put(id, value) {
      versions += 1;
      secrets.set(id, { value, versionId: `00000000-0000-4000-8000-${String(versions).padStart(12, '0')}` });
    },
    reads: (id) => (id !== undefined ? (readCounts.get(id) ?? 0) : [...readCounts.values()].reduce((sum, n) => sum + n, 0)),
    behave(next) {
      mode = next;
    },
    stop() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
