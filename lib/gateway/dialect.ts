/**
 * A gateway dialect: one caller's language around the claims core (lib/policy/resolve-claims.ts:
 * the same lookup, the same single database round trip). Each dialect parses leniently what its
 * caller may add (loose objects: vendors add fields between versions) and answers strictly what
 * that caller expects:
 *
 * | dialect      | file            | claims added                   | no change                       | deny                        | store down |
 * | ------------ | --------------- | ------------------------------ | ------------------------------- | --------------------------- | ---------- |
 * | native       | native.ts       | 200 claims                     | —                               | 403/404/409 problem         | 503        |
 * | hydra        | hydra.ts        | 200 {session: {access_token, id_token}} | 204: subject in no tenant at all | 403 problem   | 503: Hydra fails the token request |
 * | oathkeeper   | oathkeeper.ts   | 200 session + extra + header   | 200 session as sent: anonymous subject | 403 problem          | 503: Oathkeeper denies |
 * | forward-auth | forward-auth.ts | 200 + X-Auth-* headers         | —                               | 401 / 403 problem (400: auth URL query) | 503 |
 * | cognito      | cognito.ts      | event + claimsAndScopeOverrideDetails | event as sent: subject in no tenant at all | throw: sign-in refused | throw, generic message |
 *
 * Fail closed (README, "Security"): "no change" only where our claims cannot exist — a subject
 * in no tenant at all (whatever tenant it names), or an anonymous Oathkeeper session. A subject
 * that is in some tenant and names one it is not in, or a suspended or unknown one, is refused,
 * and the refusal is the same problem whether the slug exists, or is suspended (unless the
 * subject is a member of that suspended tenant: then `tenant-suspended`).
 */
import { AppError, ForbiddenError, InternalError } from '../errors.js';
import type { Claims, ClaimsQuery } from '../policy/claims.js';
import { SubjectNotFoundError } from '../policy/resolve-claims.js';

/** A refusal a dialect answers with its "no change" instead of a deny. */
export const NO_CHANGE = Symbol('no change');

/**
 * What a dialect answers. HTTP dialects: the response (the HTTP stack serializes it). Cognito:
 * `body` is the event handed back, `status` only labels the metrics (200 claims, 204 no change).
 */
export interface GatewayAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The claims core, as the function wires it (its store, and for Cognito a time budget). */
export type FindClaims = (query: ClaimsQuery) => Promise<Claims>;

/**
 * One gateway's language. `parse` runs once per request and throws the dialect's 4xx for input
 * it cannot read; `query` may refuse too (a tenant that is not a slug, a token that does not
 * verify): those errors reach the caller as thrown. Only the core's refusals (and `allow`'s:
 * the claim budget) go through `refuse`.
 */
export interface GatewayDialect<Input, Request> {
  /** The `dialect` dimension of the request's metrics. */
  readonly name: string;
  parse(input: Input): Request;
  /** What to look up; undefined where our claims cannot exist (an anonymous session): then `unchanged`. */
  query(request: Request): ClaimsQuery | undefined | Promise<ClaimsQuery | undefined>;
  allow(request: Request, claims: Claims): GatewayAnswer;
  /** The answer that leaves the caller's token as it would be without us. Absent: the dialect has none. */
  unchanged?(request: Request): GatewayAnswer;
  /** A refusal of the core in the dialect's terms: the error its caller gets, or NO_CHANGE. */
  refuse(error: AppError): AppError | typeof NO_CHANGE;
}

/** A request parsed by its dialect, ready to be answered. */
export interface GatewayCall {
  readonly dialect: string;
  answer(findClaims: FindClaims): Promise<GatewayAnswer>;
}

export function gatewayCall<I, R>(dialect: GatewayDialect<I, R>, input: I): GatewayCall {
  return new ParsedCall(dialect, dialect.parse(input));
}

/** A class, not a closure per request: `answer` lives on the prototype. */
class ParsedCall<I, R> implements GatewayCall {
  readonly dialect: string;
  constructor(
    private readonly of: GatewayDialect<I, R>,
    private readonly request: R,
  ) {
    this.dialect = of.name;
  }
  answer(findClaims: FindClaims): Promise<GatewayAnswer> {
    return answer(this.of, this.request, findClaims);
  }
}

/** The one place a lookup's outcome becomes allow, no change or deny. */
export async function answer<I, R>(dialect: GatewayDialect<I, R>, request: R, findClaims: FindClaims): Promise<GatewayAnswer> {
  const query = await dialect.query(request);
  if (query === undefined) return unchanged(dialect, request);
  try {
    return dialect.allow(request, await findClaims(query));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const refusal = dialect.refuse(error);
    if (refusal === NO_CHANGE) return unchanged(dialect, request);
    throw refusal;
  }
}

function unchanged<I, R>(dialect: GatewayDialect<I, R>, request: R): GatewayAnswer {
  // Never reached by the dialects without one; if it were, a 5xx keeps it closed.
  if (!dialect.unchanged) throw new InternalError(new Error(`the ${dialect.name} dialect has no "no change" answer`));
  return dialect.unchanged(request);
}

/**
 * A gateway knows allow, 401 and 403: every other refusal of the core (404, 409, 422) becomes a
 * 403 with the same code and detail; a 5xx stays one (every gateway denies it too).
 */
export function deny(error: AppError): AppError {
  return error.status >= 500 || error.status === 403 ? error : new ForbiddenError(error.message, error.code);
}

/**
 * Hydra's and Cognito's refusal: a subject in no tenant at all (our claims could not exist) is no
 * change; every other refusal denies. A subject in some tenant that names one it is not in is refused.
 */
export function denyUnlessNoneOfOurs(error: AppError): AppError | typeof NO_CHANGE {
  return error instanceof SubjectNotFoundError && !error.known ? NO_CHANGE : deny(error);
}
