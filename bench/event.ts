/**
 * A Function URL (payload 2.0) event for POST /system/enrich-token, shaped like
 * local/http-front.ts builds it but with nothing computed per call that a gateway would not send:
 * the harness's own cost is counted in case (b), so it is kept minimal.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

const PATH = '/system/enrich-token';

export function enrichEvent(body: string, apiKey: string): APIGatewayProxyEventV2 {
  return httpEvent('POST', PATH, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-api-key': apiKey,
  }, body);
}

/** nginx's auth_request subrequest: a GET with the user's bearer token and the gateway's key. */
export function forwardAuthEvent(token: string, apiKey: string): APIGatewayProxyEventV2 {
  return httpEvent('GET', '/system/forward-auth', { authorization: `Bearer ${token}`, 'x-api-key': apiKey, 'x-original-uri': '/invoices/42' });
}

/** A Cognito pre-token-generation event, version 2, for a user sign-in. */
export function cognitoEvent(subject: string, tenant: string | undefined) {
  return {
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_bench',
    userName: subject,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'bench-web' },
    request: { userAttributes: { sub: subject, ...(tenant === undefined ? {} : { 'custom:tenant': tenant }) }, groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [] } },
    response: { claimsAndScopeOverrideDetails: null },
  };
}

function httpEvent(method: string, path: string, extra: Record<string, string>, body?: string): APIGatewayProxyEventV2 {
  const now = new Date();
  const headers: Record<string, string> = { host: '127.0.0.1', 'user-agent': 'iam-bench', ...extra };
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'iam-bench' },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}
