/**
 * enrich-token speaks three dialects on one route; the body's shape says which, most specific
 * first: Ory Hydra's token hook, Ory Oathkeeper's hydrator session, else the native request.
 */
import type { ClaimProfile } from '../policy/claim-profile.js';
import { type GatewayCall, gatewayCall } from './dialect.js';
import { hydra } from './hydra.js';
import { native } from './native.js';
import { oathkeeper } from './oathkeeper.js';

export type EnrichTokenDialect = 'native' | 'hydra' | 'oathkeeper';

/** Which language a parsed JSON body speaks; undefined for a body that is no JSON object. */
export function dialectOf(body: unknown): EnrichTokenDialect | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  if ('session' in body && 'request' in body) return 'hydra';
  if ('match_context' in body || 'extra' in body || 'header' in body) return 'oathkeeper';
  return 'native';
}

/**
 * The body parser of enrich-token's HTTP stack: the dialect's own schema, once. The request is
 * labelled with its dialect as soon as the shape says it, so a malformed Hydra hook still counts
 * as Hydra's 400.
 */
export function enrichTokenDialects(profile: ClaimProfile): (body: unknown, label: { dialect?: string | undefined }) => GatewayCall {
  const dialects = { native, hydra: hydra(profile), oathkeeper: oathkeeper(profile) };
  return (body, label) => {
    const shape = dialectOf(body);
    if (shape) label.dialect = shape;
    return gatewayCall<unknown, unknown>(dialects[shape ?? 'native'], body);
  };
}
