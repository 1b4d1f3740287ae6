/** Request schemas of the admin API. Strict objects: unknown fields (id, tenant, timestamps …) are refused. */
import * as z from '../schema.js';

export const slug = z.string().check(z.regex(/^[a-z0-9-]{2,63}$/, 'must be a tenant slug: 2–63 of a-z, 0-9 and -'));
export const roleName = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/, 'must be a role name: 1–63 of A-Z a-z 0-9 _ . : -, starting with a letter or digit'),
);
export const subject = z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^[^\u0000-\u001f\u007f]+$/, 'must be printable text'));
const name = z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[^\u0000-\u001f\u007f]+$/, 'must be printable text'));
const permission = z.string().check(
  z.regex(/^[A-Za-z0-9*][A-Za-z0-9_.:*/-]{0,127}$/, 'must be a permission such as invoices:read (letters, digits, _ . : * / -)'),
);
const status = z.enum(['active', 'suspended']);

/** Path parameters by name; every route's `{name}` is validated with these. */
export const pathParams = { tenant: slug, role: roleName, subject } as const;

export const createTenantBody = z.strictObject({ slug, name, status: z.optional(status) });
export const updateTenantBody = z.strictObject({ name: z.optional(name), status: z.optional(status) });

const permissions = z.array(permission).check(z.maxLength(200));
export const createRoleBody = z.strictObject({
  name: roleName,
  description: z.optional(z.string().check(z.maxLength(1000))),
  permissions,
});
export const updateRoleBody = z.strictObject({
  description: z.optional(z.string().check(z.maxLength(1000))),
  permissions: z.optional(permissions),
});

export const putUserBody = z.strictObject({ roles: z.array(roleName).check(z.maxLength(100)) });

export const pageQuery = z.strictObject({
  limit: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')),
      z.pipe(z.transform((v: string) => Number(v)), z.number().check(z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100'))),
    ),
  ),
  cursor: z.optional(z.string().check(z.maxLength(512))),
});

/** Routes that are not lists take no query parameters at all. */
export const noQuery = z.strictObject({});
