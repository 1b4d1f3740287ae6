/** POST /tenants/{tenant}/roles */
import { createRole } from '../lib/admin/roles.js';
import { createRoleBody } from '../lib/admin/schemas.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'createRole', { body: createRoleBody, idempotent: true }, ({ mutation, params, body }) =>
  createRole(app, mutation, params.tenant, body),
);
