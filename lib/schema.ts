/**
 * zod/mini with English messages. zod/mini keeps bundles small (enrich-token's cold start)
 * but loads no locale by default, which would leave every issue as "Invalid input".
 * Import it as `import * as z from '…/schema.js'`, never from 'zod/mini' directly.
 * (Re-exporting with `export *`, not a namespace object, lets esbuild drop what is unused.)
 */
import { config, regex, string } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';

/**
 * The one rule for text a person reads or a gateway matches (subjects, slugs, names, role
 * names and descriptions): no character of the Unicode categories Cc (controls, NUL, CR/LF,
 * tab, C1), Cf (format: zero-width U+200B–U+200D, bidi overrides and isolates U+202A–U+202E and
 * U+2066–U+2069, U+FEFF, soft hyphen, tag characters), Zl and Zp (U+2028, U+2029), nor Cs: a
 * lone surrogate, which is not text at all (ill-formed UTF-16: encoded to UTF-8 for PostgreSQL
 * it becomes U+FFFD, so the stored text would differ from the one sent and compared). The others
 * make two names that look identical differ, or reorder what an operator reads in a log.
 * Use it as a check: `z.string().check(z.maxLength(255), z.visibleText)`.
 */
export const visibleText = /* @__PURE__ */ regex(
  /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]*$/u,
  'must not contain control, invisible (format), bidirectional-control or line-separator characters, nor unpaired surrogates',
);

/**
 * visibleText for names and descriptions people write (tenant and client names, role
 * descriptions), which also allows the two joiners U+200C (ZWNJ) and U+200D (ZWJ): Persian and
 * the Indic scripts spell words with them, and emoji sequences (👩‍💻) are built with ZWJ. They
 * neither reorder text nor hide a line; identifiers (subjects, slugs, role names) keep the
 * stricter rule, since there two strings that look the same must not be two principals.
 */
export const displayText = /* @__PURE__ */ regex(
  /^(?:[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]|[\u200C\u200D])*$/u,
  'must not contain control, invisible (format), bidirectional-control or line-separator characters, nor unpaired surrogates (the joiners U+200C and U+200D are allowed)',
);

/**
 * A tenant's slug, the key tenants are named by everywhere: in the admin API's paths and
 * bodies, and wherever a gateway, a token or a user attribute names a tenant. The database
 * checks the same pattern (the tenants table's constraint).
 */
export const tenantSlug = /* @__PURE__ */ string().check(/* @__PURE__ */ regex(/^[a-z0-9-]{2,63}$/, 'must be a tenant slug: 2–63 of a-z, 0-9 and -'));
