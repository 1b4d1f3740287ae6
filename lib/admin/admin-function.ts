/**
 * The admin API's function builder, on the one middleware stack: bearer-token authentication,
 * authorization from the route's access requirement (denials audited), path and query
 * validation, If-Match, Idempotency-Key and ETag. `adminRoute` and `clientRoute` make the route
 * table's entries (lib/admin/routes.ts): a route, its body schema and the use case serving it.
 */
import type { Access, AdminCaller } from './access.js';
import { authorize } from './access.js';
import type { PageRequest } from './model.js';
import type { IfMatch, MutationContext, Reply } from './mutation.js';
import { noQuery, pageQuery, pathParams } from './schemas.js';
import { decodeCursor } from './views.js';
import type { AccessTokenVerifier, AdminScopeReader, PolicyStore } from './ports.js';
import type { ClientDeps } from './clients.js';
import type { Deps } from './tenants.js';
import type { ClaimsReader } from '../policy/ports.js';
import { BadRequestError, PreconditionFailedError, PreconditionRequiredError, UnauthorizedError } from '../errors.js';
import * as z from '../schema.js';
import { BEARER_CHALLENGE, bearerToken } from '../http/bearer-token.js';
import { validate } from '../http/json-body.js';
import { httpFunction, type HttpFunctionSpec, type HttpRuntime, type LambdaHttpHandler } from '../http/stack.js';
import type { HttpContext, HttpEvent } from '../http/types.js';

/** What the builder itself uses: the stack's logger and metrics, token verification, admin scopes, the audit log. */
export interface AdminFunctionDeps extends HttpRuntime {
  tokens: AccessTokenVerifier;
  scopes: AdminScopeReader;
  store: Pick<PolicyStore, 'audit'>;
}

/** What the admin bundle's use cases get: the builder's parts, the policy store, events after commit, enrich-token's lookup. */
export type AdminApp = AdminFunctionDeps & Deps & { store: PolicyStore; claims: ClaimsReader };
/** What the client bundle's use cases get besides: the IdP (lib/wiring/clients.ts). */
export type ClientApp = AdminApp & ClientDeps;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route as the table declares it. `lambda` names its function in serverless.yml (generated). */
export interface RouteSpec<P extends string = string> {
  method: Method;
  path: P;
  access: Access;
  summary: string;
  lambda: string;
}

/** A route table entry: the route, the bundle whose composition root serves it, and how. */
export type AdminRoute = RouteSpec &
  (
    | { bundle: 'admin'; serve: (app: AdminApp, operation: string) => LambdaHttpHandler }
    | { bundle: 'clients'; serve: (app: ClientApp, operation: string) => LambdaHttpHandler }
  );

/** The `{name}`s of a route's path, e.g. `'tenant' | 'role'` for `/tenants/{tenant}/roles/{role}`. */
type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParamNames<Rest> : never;

/** A route's validated path parameters, typed from its path: every one is present. */
export type RouteParams<P extends string> = { readonly [N in PathParamNames<P>]: string };

type BodyOf<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;
type UseCase<A, P extends string, S> = (app: A, request: AdminRequest<BodyOf<S>, RouteParams<P>>) => Promise<Reply>;

/** A route served by the admin bundle (no IdP calls). */
export function adminRoute<const P extends string, S extends z.ZodMiniType | undefined = undefined>(
  route: RouteSpec<P>,
  spec: AdminFunctionSpec<S>,
  use: UseCase<AdminApp, P, S>,
) {
  return { ...route, bundle: 'admin' as const, serve: (app: AdminApp, operation: string) => adminFunction(app, operation, route, spec, (request) => use(app, request)) };
}

/** A route served by the client bundle: it calls the IdP (registration, rotation, deletion). */
export function clientRoute<const P extends string, S extends z.ZodMiniType | undefined = undefined>(
  route: RouteSpec<P>,
  spec: AdminFunctionSpec<S>,
  use: UseCase<ClientApp, P, S>,
) {
  return { ...route, bundle: 'clients' as const, serve: (app: ClientApp, operation: string) => adminFunction(app, operation, route, spec, (request) => use(app, request)) };
}

export interface AdminRequest<B, P = Readonly<Record<string, string>>> {
  caller: AdminCaller;
  params: P;
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
  /** A keyset-paginated list: the only routes that take `limit` and `cursor`. */
  list?: boolean;
  /** Schemas of path parameters that lib/admin/schemas.ts `pathParams` does not name (a resource's own). */
  params?: Readonly<Record<string, z.ZodMiniType<string>>>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const ETAG = /^"v(\d{1,9})"$/;
const DEFAULT_PAGE = 50;

export function adminFunction<P extends string, S extends z.ZodMiniType | undefined = undefined>(
  app: AdminFunctionDeps,
  operation: string,
  route: RouteSpec<P>,
  spec: AdminFunctionSpec<S>,
  handler: (request: AdminRequest<BodyOf<S>, RouteParams<P>>) => Promise<Reply>,
): LambdaHttpHandler {
  if (!route.access) throw new Error(`admin operation ${operation} has no access requirement`);
  // Open to any valid token: only a read that names no tenant (lib/admin/access.ts).
  if (route.access === 'authenticated' && (route.method !== 'GET' || route.path.includes('{'))) {
    throw new Error(`admin operation ${operation}: access 'authenticated' is for a GET without path parameters`);
  }
  const handlerName = route.path;
  const schemas: Readonly<Record<string, z.ZodMiniType<string>>> = { ...pathParams, ...spec.params };
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const unknown = names.filter((n) => schemas[n] === undefined);
  if (unknown.length > 0) throw new Error(`admin operation ${operation}: no schema for path parameter(s) ${unknown.join(', ')}`);
  const paramsSchema = z.strictObject(Object.fromEntries(names.map((n) => [n, schemas[n]!])));
  const isList = spec.list === true;

  return httpFunction(
    app,
    {
      name: handlerName,
      body: spec.body,
      invalidBody: spec.invalidBody,
      authenticate: async (event: HttpEvent, context: HttpContext): Promise<AdminCaller> => {
        const token = bearerToken(event.headers?.authorization);
        if (token === undefined) throw new UnauthorizedError('An Authorization: Bearer <access token> header is required.', BEARER_CHALLENGE);
        const { subject } = await app.tokens.verify(token);
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
      // The schema holds exactly the route's `{name}`s, each required: RouteParams<O> by construction.
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
        params: params as RouteParams<P>,
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
