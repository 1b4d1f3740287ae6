/**
 * A thin local HTTP front: turns a Node request into the payload-2.0 event that an HTTP API
 * route delivers, and invokes the unchanged Lambda handler in-process. Like the HTTP API, it
 * never puts an IAM identity in the event (only the local Function URL does, after SigV4).
 * Only for `npm start`, the tests and the benchmark; AWS does this part in production.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { AppError, BadRequestError, NotFoundError, PayloadTooLargeError } from '../lib/errors.js';
import { problemResponse } from '../lib/http/problem.js';
import type { LambdaHttpHandler } from '../lib/http/stack.js';

export interface Route {
  method: string;
  /** e.g. `/tenants/{tenant}/roles/{role}` */
  path: string;
  handler: LambdaHttpHandler;
}

/** AWS caps synchronous Lambda payloads at 6 MB; a front that buffered more would differ. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export function createHttpFront(routes: readonly Route[]): Server {
  const compiled = routes.map((route) => ({ ...route, pattern: compile(route.path) }));
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const onPath = compiled
      .map((route) => {
        const found = route.pattern.exec(url.pathname);
        return { route, params: found ? { ...found.groups } : undefined };
      })
      .filter((candidate) => candidate.params !== undefined);
    const match = onPath.find((candidate) => candidate.route.method === req.method);
    const body = await readBody(req);
    const params = match?.params && decodeAll(match.params);
    if (!match || body === undefined || params === undefined) {
      // What API Gateway answers before any function runs, in the functions' problem shape
      // (lib/http/problem.ts): a problem body, and the request id in the header and the body.
      const refusal =
        body === undefined
          ? new PayloadTooLargeError(MAX_PAYLOAD_BYTES)
          : onPath.length === 0
            ? new NotFoundError(`No route serves ${req.method} ${url.pathname} here (npm start serves the routes of serverless.yml).`, 'route-not-found')
            : !match
              ? methodNotAllowed(req.method ?? 'GET', url.pathname, onPath.map((candidate) => candidate.route.method))
              : new BadRequestError(`The path ${url.pathname} is not valid percent-encoding.`);
      const requestId = randomUUID();
      const problem = problemResponse(refusal, requestId);
      res.writeHead(problem.statusCode, { ...problem.headers, 'x-request-id': requestId });
      res.end(problem.body);
      return;
    }
    const event = toEvent(req, url, match.route.path, params, body);
    const result = await match.route.handler(event, lambdaContext(match.route.path));
    res.writeHead(result.statusCode, result.headers);
    res.end(result.body);
  });
}

/** A path the front serves, asked with a method it does not serve there. */
function methodNotAllowed(method: string, path: string, allowed: string[]): AppError {
  const allow = [...new Set(allowed)].join(', ');
  return new AppError(405, 'method-not-allowed', 'Method Not Allowed', `${path} does not serve ${method}; it serves ${allow}.`, { headers: { allow } });
}

/** Percent-decodes path parameters; undefined when one is not valid percent-encoding. */
function decodeAll(params: Record<string, string>): Record<string, string> | undefined {
  try {
    return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, decodeURIComponent(v)]));
  } catch {
    return undefined;
  }
}

function compile(path: string): RegExp {
  // `{name+}` is API Gateway's greedy variable (the rest of the path, here also empty: the trailing slash).
  const source = path
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{(\w+)\\\+\}/g, '(?<$1>.*)')
    .replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

/** The body, or undefined past Lambda's synchronous payload limit. */
export async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  routePath: string,
  params: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return buildHttpEvent({
    method: req.method ?? 'GET',
    url,
    routePath,
    params,
    headers,
    body: body.length ? body.toString('utf8') : undefined,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
}

export interface HttpEventInput {
  method: string;
  url: URL;
  routePath?: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | undefined;
  sourceIp?: string;
  /** A Function URL's events say `$default`; an HTTP API route's, `POST /path`. */
  routeKey?: string;
  /**
   * The identity a Function URL with AWS_IAM auth puts in the event after checking SigV4.
   * Only the local Function URL (local/function-url.ts) passes one; the HTTP API front never does.
   */
  iam?: { accountId: string; userArn: string; accessKey?: string; callerId?: string; userId?: string };
}

/** A payload-2.0 event as a Function URL or HTTP API route delivers it (header names lower-case). */
export function buildHttpEvent(input: HttpEventInput): APIGatewayProxyEventV2 {
  const { method, url } = input;
  const routePath = input.routePath ?? url.pathname;
  const routeKey = input.routeKey ?? `${method} ${routePath}`;
  const params = input.params ?? {};
  const headers = Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const now = new Date();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    pathParameters: Object.keys(params).length ? params : undefined,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: input.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: input.body,
    isBase64Encoded: false,
  };
  if (input.iam) {
    Object.assign(event.requestContext, {
      authorizer: { iam: { accessKey: 'AKIA-LOCAL', callerId: 'local', userId: 'local', ...input.iam } },
    });
  }
  return event;
}

/** A Lambda context like the runtime passes. */
export function lambdaContext(name: string): Context {
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `iam-service-local${name.replace(/\W+/g, '-')}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:iam-service-local',
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 6000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
