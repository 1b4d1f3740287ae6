/**
 * A Function URL (payload 2.0) event for POST /system/enrich-token, shaped like
 * local/http-front.ts builds it but with nothing computed per call that a gateway would not send:
 * the harness's own cost is counted in case (b), so it is kept minimal.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

const PATH = '/system/enrich-token';

export function enrichEvent(body: string, apiKey: string): APIGatewayProxyEventV2 {
  const now = new Date();
  const headers: Record<string, string> = {
    host: '127.0.0.1',
    'user-agent': 'iam-bench',
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-api-key': apiKey,
  };
  return {
    version: '2.0',
    routeKey: `POST ${PATH}`,
    rawPath: PATH,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: { method: 'POST', path: PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'iam-bench' },
      requestId: randomUUID(),
      routeKey: `POST ${PATH}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}
