/**
 * POST /system/enrich-token — the gateway's call on every login: subject → claims.
 * Reached through a Function URL (AWS_IAM) or with an X-API-Key. The body's shape says which
 * gateway is calling (lib/gateway/enrich-token-dialects.ts): the native request, Ory Hydra's
 * token hook or Ory Oathkeeper's hydrator; all three run the same lookup and fail closed
 * (README, "Security").
 */
import { enrichTokenDialects } from '../lib/gateway/enrich-token-dialects.js';
import { apiKeyOrIamCaller } from '../lib/http/caller-auth.js';
import { httpFunction } from '../lib/http/stack.js';
import type { ClaimsQuery } from '../lib/policy/claims.js';
import { enrichToken } from '../lib/policy/resolve-claims.js';
import { runtime } from '../lib/wiring/base.js';

const app = runtime();
const findClaims = (query: ClaimsQuery) => enrichToken(app, query);

export const handler = httpFunction(
  app,
  {
    name: '/system/enrich-token',
    // The schema of the dialect the body's shape names, validated once.
    body: enrichTokenDialects(app.config.claims),
    // Hydra's session and Oathkeeper's headers are larger than the native request.
    maxBodyBytes: 64 * 1024,
    // Oathkeeper's hydrator can only send the key as a Basic password.
    authenticate: apiKeyOrIamCaller(app.credentials.enrichApiKeys, { basic: true }),
  },
  (_event, context) => context.body.answer(findClaims),
);
