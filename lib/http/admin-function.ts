/**
 * The admin API's function builder, on the one middleware stack: bearer-token authentication,
 * authorization from the route table (denials audited), path and query validation, If-Match,
 * Idempotency-Key and ETag. A function supplies its operation, body schema and use case.
 */
import type { AdminCaller } from '../admin/access.js';
import { authorize } from '../admin/access.js';
import type { PageRequest } from '../admin/model.js';
import type { IfMatch, MutationContext, Reply } from '../admin/mutation.js';
import { ADMIN_ROUTES, type AdminOperation } from '../admin/routes.js';
import { noQuery, pageQuery, pathParams } from '../admin/schemas.js';
import { decodeCursor } from '../admin/views.js';
import { BadRequestError, PreconditionFailedError, PreconditionRequiredError, UnauthorizedError } from '../errors.js';
import type { AdminRuntime } from '../wiring/admin.js';
import * as z from '../schema.js';
import { validate } from './json-body.js';
import { httpFunction, type HttpFunctionSpec, type LambdaHttpHandler } from './stack.js';
import type { HttpContext, HttpEvent } from './types.js';

export interface AdminRequest<B> {
  caller: AdminCaller;
  params: Record<string, string>;
  body: B;
  /** For list routes: the validated page. */
  page: PageRequest;
  /** The version named by If-Match (or `*`), when the request carries one. */
  ifMatch: IfMatch;
  /** Context for mutations: actor, request id and (on creates) the Idempotency-Key. */
  mutation: MutationContext;
}

export interface AdminFunctionSpec<S extends z.ZodMiniType | undefined> {
  body?: S;
  /** Creates accept Idempotency-Key. */
  idempotent?: boolean;
  /** How a body that fails the schema is worded (see HttpFunctionSpec.invalidBody). */
  invalidBody?: HttpFunctionSpec<S, AdminCaller>['invalidBody'];
}

// RFC 9110 §11.1, §11.4: the scheme is case-insensitive and followed by one or more spaces.
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;
const CHALLENGE = 'Bearer realm="iam-service"';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const ETAG = /^"v(\d{1,9})"$/;
const DEFAULT_PAGE = 50;

export function adminFunction<S extends z.ZodMiniType | undefined = undefined>(
  app: AdminRuntime,
  operation: AdminOperation,
  spec: AdminFunctionSpec<S>,
  handler: (request: AdminRequest<S extends z.ZodMiniType ? z.infer<S> : undefined>) => Promise<Reply>,
): LambdaHttpHandler {
  const route = ADMIN_ROUTES[operation];
  if (!route?.access) throw new Error(`admin operation ${operation} has no access requirement`);
  const handlerName = route.path;
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as keyof typeof pathParams);
  const paramsSchema = z.strictObject(Object.fromEntries(names.map((n) => [n, pathParams[n]])));
  // A list is a GET of a collection: the only routes that take `limit` and `cursor`.
  const isList = route.method === 'GET' && !route.path.endsWith('}');

  return httpFunction(
    app,
    {
      name: handlerName,
      body: spec.body,
      invalidBody: spec.invalidBody,
      authenticate: async (event: HttpEvent, context: HttpContext): Promise<AdminCaller> => {
        const match = BEARER.exec(event.headers?.authorization ?? '');
        if (!match) throw new UnauthorizedError('An Authorization: Bearer <access token> header is required.', CHALLENGE);
        const { subject } = await app.tokens.verify(match[1]!);
        const caller = { subject, scope: await app.scopes.adminScope(subject) };
        const tenant = event.pathParameters?.tenant;
        // Only a well-formed slug goes into the audit row; anything else is in the raw path.
        const auditSlug = tenant !== undefined && z.safeParse(pathParams.tenant, tenant).success ? tenant : null;
        try {
          authorize(caller, route.access, tenant);
        } catch (denied) {
          await app.store.audit
            .append({ actor: subject, tenantId: null, tenantSlug: auditSlug, action: operation, target: event.rawPath, result: 'denied', requestId: context.requestId })
            .catch((error) => context.log.error('audit of a denied request failed', { operation }, error));
          throw denied;
        }
        return caller;
      },
    },
    async (event, context) => {
      const params = validate(paramsSchema, event.pathParameters ?? {}, 'path') as Record<string, string>;
      const query = validate(isList ? pageQuery : noQuery, event.queryStringParameters ?? {}, 'query string');
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && after === undefined) throw new BadRequestError('The cursor is not one this API issued.');
      const idempotencyKey = spec.idempotent ? event.headers?.['idempotency-key'] : undefined;
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw new BadRequestError('Idempotency-Key must be 1–255 visible ASCII characters.');
      }
      const reply = await handler({
        caller: context.caller,
        params,
        body: context.body,
        page: { limit: query.limit ?? DEFAULT_PAGE, after },
        ifMatch: ifMatch(route.method, event.headers?.['if-match']),
        mutation: {
          actor: context.caller.subject,
          requestId: context.requestId,
          idempotency: idempotencyKey
            ? { scope: `${context.caller.subject} ${operation} ${params.tenant ?? ''}`, key: idempotencyKey, body: context.body }
            : undefined,
        },
      });
      const headers: Record<string, string> = {};
      if (reply.version !== undefined) headers.etag = `"v${reply.version}"`;
      if (reply.location !== undefined) headers.location = reply.location;
      if (reply.replayed) headers['idempotent-replayed'] = 'true';
      return { status: reply.status, body: reply.body, headers };
    },
  );
}

/**
 * The versions If-Match names, on the methods that change a resource: PATCH must carry one,
 * PUT and DELETE may. `*` matches any current version (the resource must exist); a list
 * (`"v3", "v4"`) matches any of its members (RFC 9110 §13.1.1).
 */
function ifMatch(method: string, header: string | undefined): IfMatch {
  if (method !== 'PATCH' && method !== 'PUT' && method !== 'DELETE') return undefined;
  if (header === undefined) {
    if (method === 'PATCH') throw new PreconditionRequiredError();
    return undefined;
  }
  if (header.trim() === '*') return '*';
  const versions = header.split(',').map((tag) => ETAG.exec(tag.trim()));
  if (versions.some((match) => match === null)) {
    throw new PreconditionFailedError('If-Match must name ETags this API issued, such as "v3".');
  }
  return versions.map((match) => Number(match![1]));
}
