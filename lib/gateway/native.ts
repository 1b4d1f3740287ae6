/**
 * enrich-token's own request: `{subject, tenant?, client_id?}` in, the claims out. Its refusals
 * are the core's own problems (403 / 404 / 409 / 422); it has no "no change".
 */
import { validate } from '../http/json-body.js';
import * as z from '../schema.js';
import type { GatewayDialect } from './dialect.js';
import { tenantSlug } from './named-tenant.js';

const printable = (max: number) => z.string().check(z.minLength(1), z.maxLength(max), z.visibleText);

export const enrichTokenRequest = z.strictObject({
  subject: printable(255),
  tenant: z.optional(tenantSlug),
  client_id: z.optional(printable(255)),
});
export type EnrichTokenRequest = z.infer<typeof enrichTokenRequest>;

export const native: GatewayDialect<unknown, EnrichTokenRequest> = {
  name: 'native',
  parse: (body) => validate(enrichTokenRequest, body),
  query: (body) => ({ subject: body.subject, tenant: body.tenant, clientId: body.client_id }),
  allow: (_body, claims) => ({ status: 200, body: claims }),
  refuse: (error) => error,
};
