/** POST /tenants — platform admins create a tenant. */
import { createTenant } from '../lib/admin/tenants.js';
import { createTenantBody } from '../lib/admin/schemas.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'createTenant', { body: createTenantBody, idempotent: true }, ({ mutation, body }) =>
  createTenant(app, mutation, body),
);
