/** A tenant named by a gateway, a token or a user attribute: the slug the policy store keys tenants by. */
import { ForbiddenError } from '../errors.js';
import * as z from '../schema.js';

/** The one slug rule (lib/schema.ts), named here for the dialects. */
export const tenantSlug = z.tenantSlug;

/**
 * An explicit tenant the caller chose: a slug, or a one-slug list (Hydra passes form values as
 * lists); absent, null or '' is none. Anything else is refused (403 `tenant-invalid`): a gateway
 * never falls back to the home tenant because a tenant was misspelled.
 */
export function explicitTenant(value: unknown, what = 'The requested tenant'): string | undefined {
  const one = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (one === undefined || one === null || one === '') return undefined;
  const parsed = z.safeParse(tenantSlug, one);
  if (!parsed.success) throw new ForbiddenError(`${what} is not a tenant slug.`, 'tenant-invalid');
  return parsed.data;
}
