/** PUT /tenants/{tenant}/users/{subject} {"roles": [...]} — sets (replaces) the subject's roles. */
import { putUserBody } from '../lib/admin/schemas.js';
import { putUser } from '../lib/admin/users.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'putUser', { body: putUserBody }, ({ mutation, params, ifMatch, body }) =>
  putUser(app, mutation, params.tenant, params.subject, ifMatch, body.roles),
);
