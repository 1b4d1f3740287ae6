/**
 * zod/mini with English messages. zod/mini keeps bundles small (enrich-token's cold start)
 * but loads no locale by default, which would leave every issue as "Invalid input".
 * Import it as `import * as z from '…/schema.js'`, never from 'zod/mini' directly.
 * (Re-exporting with `export *`, not a namespace object, lets esbuild drop what is unused.)
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
