/**
 * The admin API as the CLI uses it: JSON over fetch with the bearer token, lists walked through
 * every page, ETags read, problem+json turned into ApiProblem. The token goes into the
 * Authorization header and nowhere else (no message or log line carries it).
 */

/** An answer of the API that is not a 2xx, as its problem+json says it. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly type: string | undefined,
    readonly errors: unknown,
  ) {
    super(`${status} ${title}${detail ? `: ${detail}` : ''}${errorList(errors)}`);
  }
}

/** The API could not be reached at all (connection refused, reset, DNS). */
export class ApiUnreachable extends Error {}

const errorList = (errors: unknown) =>
  Array.isArray(errors) && errors.length > 0
    ? ` (${errors.map((e: { path?: unknown; message?: unknown }) => [e.path, e.message].filter((x) => x !== undefined).join(': ')).join('; ')})`
    : '';

export interface Answer<T = any> {
  status: number;
  body: T;
  etag: string | undefined;
  replayed: boolean;
}

export interface AdminApi {
  readonly url: string;
  request<T = any>(method: string, path: string, options?: { body?: unknown; ifMatch?: string; idempotencyKey?: string }): Promise<Answer<T>>;
  /** Every item of a list route, page after page. */
  list<T = any>(path: string): Promise<T[]>;
}

export function adminApi(url: string, token: string, fetchImpl: typeof fetch = fetch): AdminApi {
  const base = url.replace(/\/+$/, '');
  const api: AdminApi = {
    url: base,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json, application/problem+json' };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
      if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
      let response: Response;
      try {
        response = await fetchImpl(`${base}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new ApiUnreachable(`cannot reach the admin API at ${base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
      }
      const text = await response.text();
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      if (!response.ok) {
        const problem = body && typeof body === 'object' ? body : {};
        throw new ApiProblem(response.status, String(problem.title ?? response.statusText ?? 'Error'), problem.detail, problem.type, problem.errors);
      }
      return { status: response.status, body, etag: response.headers.get('etag') ?? undefined, replayed: response.headers.get('idempotent-replayed') === 'true' };
    },
    async list(path) {
      const items = [];
      let cursor: string | null = null;
      do {
        const page: Answer<{ items: any[]; next_cursor: string | null }> = await api.request(
          'GET',
          `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        items.push(...page.body.items);
        cursor = page.body.next_cursor;
      } while (cursor);
      return items;
    },
  };
  return api;
}

/** A path segment: slugs, role names, subjects and client ids may hold `:`, `@`, spaces… */
export const seg = (value: string) => encodeURIComponent(value);
