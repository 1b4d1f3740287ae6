/** Invokes a Lambda HTTP handler in-process with the event a Function URL would deliver. */
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { buildHttpEvent, lambdaContext } from '../../local/http-front.js';

export interface Invocation {
  body?: unknown;
  /** A raw body string, sent as is (for malformed input). */
  raw?: string;
  headers?: Record<string, string>;
  iam?: { accountId: string; userArn: string };
  path?: string;
  method?: string;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

export async function invoke(handler: LambdaHttpHandler, input: Invocation): Promise<Answer> {
  const path = input.path ?? '/system/enrich-token';
  const body = input.raw ?? (input.body === undefined ? undefined : JSON.stringify(input.body));
  const response = await handler(
    buildHttpEvent({
      method: input.method ?? 'POST',
      url: new URL(`https://lambda-url.local${path}`),
      headers: { 'content-type': 'application/json', ...input.headers },
      body,
      iam: input.iam,
    }),
    lambdaContext(path),
  );
  return { status: response.statusCode, headers: response.headers, json: response.body ? JSON.parse(response.body) : {} };
}
