/**
 * Every admin API operation that does not call the IdP, one Lambda function each: the function's
 * ADMIN_OPERATION names which (serverless/service-wide.cjs generates the functions from
 * lib/admin/routes.ts). The route table holds the route, its schema and its use case.
 */
import { adminHandler } from '../lib/wiring/admin.js';

export const handler = adminHandler();
