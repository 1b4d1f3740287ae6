import { describe, expect, it } from '@jest/globals';
import { createClientBody, createRoleBody, createTenantBody, pathParams, updateClientBody, updateRoleBody, updateTenantBody } from '../../lib/admin/schemas.js';
import { hydraRequest } from '../../lib/gateway/hydra.js';
import { oathkeeperSession } from '../../lib/gateway/oathkeeper.js';
import * as z from '../../lib/schema.js';

const text = z.string().check(z.visibleText);

/** One of each kind the rule refuses: Cc, Cf (zero-width, bidi, BOM, soft hyphen, tags), Zl, Zp, and lone surrogates. */
const REFUSED: Record<string, string> = {
  NUL: '\u0000',
  'line feed': '\n',
  tab: '\t',
  DEL: '\u007f',
  'C1 NEL': '\u0085',
  'zero-width space': '\u200b',
  'zero-width non-joiner': '\u200c',
  'zero-width joiner': '\u200d',
  'left-to-right mark': '\u200e',
  'right-to-left override': '\u202e',
  'left-to-right embedding': '\u202a',
  'first strong isolate': '\u2068',
  'left-to-right isolate': '\u2066',
  'pop directional isolate': '\u2069',
  'byte-order mark': '\ufeff',
  'soft hyphen': '\u00ad',
  'word joiner': '\u2060',
  'Arabic letter mark': '\u061c',
  'tag character': '\u{e0041}',
  'line separator': '\u2028',
  'paragraph separator': '\u2029',
  'lone high surrogate': '\ud800',
  'lone low surrogate': '\udfff',
  'surrogates in the wrong order': '\ude00\ud83d',
};

const ACCEPTED = ['alice', 'Zoë Dupré', '山田太郎', 'Алиса', 'مريم', 'עדי', '😀 team', 'a b', 'user@example.com', 'auth0|5f7c8ec7c33c6c004bbafe82', 'İstanbul', 'ﬀ', ''];

describe('visibleText', () => {
  it.each(Object.entries(REFUSED))('refuses a %s anywhere in the text', (_, ch) => {
    for (const value of [ch, `a${ch}`, `${ch}a`, `ad${ch}min`]) expect(z.safeParse(text, value).success).toBe(false);
  });

  it('accepts text in any script, emoji and spaces', () => {
    for (const value of ACCEPTED) expect(z.safeParse(text, value)).toEqual({ success: true, data: value });
  });

  it('says what it refuses', () => {
    const result = z.safeParse(text, 'ad\u200bmin');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/invisible/);
  });
});

describe('the text rule in request schemas', () => {
  const invisible = 'ad\u202emin';

  it('refuses invisible characters in subjects (admin path and every enrich-token dialect), tenant names, role descriptions and client names', () => {
    const refused = {
      'the {subject} path parameter': z.safeParse(pathParams.subject, invisible),
      'a tenant name': z.safeParse(createTenantBody, { slug: 'acme', name: invisible }),
      'a tenant rename': z.safeParse(updateTenantBody, { name: invisible }),
      'a role description': z.safeParse(createRoleBody, { name: 'viewer', description: invisible, permissions: [] }),
      'a role description update': z.safeParse(updateRoleBody, { description: invisible }),
      'a client name': z.safeParse(createClientBody, { client_name: invisible }),
      'a client rename': z.safeParse(updateClientBody, { client_name: invisible }),
      "Hydra's id_token subject": z.safeParse(hydraRequest, { session: { id_token: { subject: invisible } }, request: {} }),
      "Hydra's client_id": z.safeParse(hydraRequest, { session: {}, request: { client_id: invisible } }),
      "Oathkeeper's subject": z.safeParse(oathkeeperSession, { subject: invisible }),
      'a slug': z.safeParse(pathParams.tenant, 'ac\u200bme'),
      'a role name': z.safeParse(pathParams.role, 'view\u200ber'),
    };
    expect(Object.fromEntries(Object.entries(refused).map(([k, v]) => [k, v.success]))).toEqual(Object.fromEntries(Object.keys(refused).map((k) => [k, false])));
  });

  it('accepts the joiners ZWNJ and ZWJ in names and descriptions (Persian, Indic scripts, emoji sequences), never in subjects or slugs', () => {
    const persian = 'می\u200cخواهم';
    const coder = '\u{1f469}\u200d\u{1f4bb} team';
    expect(z.safeParse(createTenantBody, { slug: 'acme', name: persian }).success).toBe(true);
    expect(z.safeParse(createClientBody, { client_name: coder }).success).toBe(true);
    expect(z.safeParse(createRoleBody, { name: 'viewer', description: persian, permissions: [] }).success).toBe(true);
    expect(z.safeParse(pathParams.subject, persian).success).toBe(false);
    expect(z.safeParse(pathParams.subject, coder).success).toBe(false);
    expect(z.safeParse(createTenantBody, { slug: 'acme', name: 'ad\u200bmin' }).success).toBe(false);
    expect(z.safeParse(createTenantBody, { slug: 'acme', name: 'ad\u202emin' }).success).toBe(false);
  });

  it('keeps accepting the anonymous Oathkeeper subject and names in any script', () => {
    expect(z.safeParse(oathkeeperSession, { subject: '' }).success).toBe(true);
    expect(z.safeParse(createTenantBody, { slug: 'acme', name: 'Société Générale 株式会社' }).success).toBe(true);
    expect(z.safeParse(createClientBody, { client_name: 'Billing 😀' }).success).toBe(true);
  });
});
