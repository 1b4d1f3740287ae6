/** GET /audit — platform admins read the whole audit trail, newest first. */
import { listAudit } from '../lib/admin/audit.js';
import { adminFunction } from '../lib/admin/admin-function.js';
import { adminRuntime } from '../lib/wiring/admin.js';

const app = adminRuntime();

export const handler = adminFunction(app, 'listAudit', {}, ({ page }) => listAudit(app, undefined, page));
