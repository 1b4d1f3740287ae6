/**
 * A local Lambda Function URL with `AuthType: AWS_IAM`: its own port (in AWS its own host,
 * https://<url-id>.lambda-url.<region>.on.aws/), every method and path to one function, and
 * SigV4 checked before that function runs (local/sigv4-verifier.ts). A request that fails the
 * check gets Lambda's own 403 and never reaches the handler.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Logger } from '../lib/observability/logger.js';
import type { LambdaHttpHandler } from '../lib/http/stack.js';
import { buildHttpEvent, lambdaContext, readBody } from './http-front.js';
import type { ReceivedRequest, Verdict } from './sigv4-verifier.js';

export interface FunctionUrlOptions {
  /** The function's name in logs and its Lambda context, e.g. `/system/enrich-token`. */
  name: string;
  handler: LambdaHttpHandler;
  verify: (request: ReceivedRequest) => Promise<Verdict>;
  log?: Logger;
}

/**
 * Lambda's answer to a request that AWS_IAM auth refuses, as reported from AWS in
 * awsdocs/aws-lambda-developer-guide#494 (2026): `403`, `x-amzn-ErrorType: AccessDeniedException`,
 * body `{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: …"}`
 * (older answers were just `{"Message":"Forbidden"}`, awslabs/aws-sdk-rust#515). AWS may word a
 * bad signature differently (InvalidSignatureException); one body for every refusal here, and
 * callers must not parse it. The reason goes to the local log only.
 */
const FORBIDDEN_BODY = JSON.stringify({
  Message: 'Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html',
});

export function createFunctionUrl(options: FunctionUrlOptions): Server {
  return createServer(async (req, res) => {
    const body = await readBody(req);
    if (body === undefined) {
      // Lambda's payload limit (6 MB) is checked before anything else as well.
      res.writeHead(413, { 'content-type': 'application/json', 'x-amzn-errortype': 'RequestEntityTooLargeException', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' }));
      return;
    }
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : target.slice(queryAt + 1);
    const verdict = await options.verify({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headersDistinct, body });
    if (!verdict.ok) {
      options.log?.warn('function URL refused the request (AWS_IAM)', { function: options.name, reason: verdict.reason });
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException', 'x-amzn-requestid': randomUUID() });
      res.end(FORBIDDEN_BODY);
      return;
    }
    const event = buildHttpEvent({
      method: req.method ?? 'GET',
      url: new URL(target, 'http://localhost'),
      routeKey: '$default',
      headers: flatHeaders(req),
      body: body.length ? body.toString('utf8') : undefined,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      iam: verdict.identity,
    });
    const result = await options.handler(event, lambdaContext(options.name));
    res.writeHead(result.statusCode, result.headers);
    res.end(result.body);
  });
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) if (values) headers[name] = values.join(',');
  return headers;
}
