/**
 * The policy file's JSON Schema and the admin API agree on every field format: generated values
 * (ASCII, other scripts, emoji, controls, invisible and bidi characters, lone surrogates, lengths
 * around each limit) are accepted by the schema exactly when the API's own schema accepts them.
 */
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import * as z from '../../../../lib/schema.js';
import { clientId, createClientBody, createRoleBody, createTenantBody, subject } from '../../../../lib/admin/schemas.js';
import { POLICY_SCHEMA } from '../../../../cli/policy/policy-file.js';

const ajv = new Ajv({ strict: true });
ajv.addSchema(POLICY_SCHEMA);
const fileAccepts = (definition: string) => ajv.compile({ $ref: `${POLICY_SCHEMA.$id}#/definitions/${definition}` });
const apiAccepts = (schema: z.ZodMiniType, wrap: (v: string) => unknown) => (value: string) => z.safeParse(schema, wrap(value)).success;

const pieces = ['a', 'Z', '0', '9', '-', '_', '.', ':', '*', '/', ' ', '@', '#', '"', '\\', 'é', 'ß', 'ж', '中', '\t', '\n', '\u0000', '\u007f', '\u0085', '\u00ad', '\u200b', '\u200c', '\u200d', '\u202e', '\u2066', '\u2028', '\ufeff', '😀', '👩‍💻', '\ud800', '\udfff', '\u{e0041}'];
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom(...pieces), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('a', '0', '-', 'ж', '😀'), minLength: 0, maxLength: 1100 }),
  fc.tuple(fc.constantFrom(...pieces), fc.integer({ min: 0, max: 1100 })).map(([piece, n]) => piece.repeat(n)),
  fc.tuple(fc.constantFrom('a', 'x1', 'ab-'), fc.integer({ min: 0, max: 260 }), fc.constantFrom('', '😀', 'é', '-', 'A')).map(([p, n, tail]) => p.repeat(n) + tail),
);

const FIELDS: Array<[string, string, (value: string) => boolean]> = [
  ['tenant slug', 'tenantSlug', apiAccepts(createTenantBody, (v) => ({ slug: v, name: 'n' }))],
  ['tenant and client name', 'displayName', apiAccepts(createTenantBody, (v) => ({ slug: 'ok', name: v }))],
  ['role name', 'roleName', apiAccepts(createRoleBody, (v) => ({ name: v, permissions: [] }))],
  ['role description', 'description', apiAccepts(createRoleBody, (v) => ({ name: 'r', description: v, permissions: [] }))],
  ['permission', 'permission', apiAccepts(createRoleBody, (v) => ({ name: 'r', permissions: [v] }))],
  ['subject', 'subject', apiAccepts(subject, (v) => v)],
  ['client_id', 'clientId', apiAccepts(clientId, (v) => v)],
];

describe('the policy file schema and the admin API', () => {
  it.each(FIELDS)('accept the same %s values', (_, definition, api) => {
    const file = fileAccepts(definition);
    let accepted = 0;
    fc.assert(
      fc.property(text, (value) => {
        const verdict = api(value);
        if (verdict) accepted++;
        expect({ value, file: file(value) }).toEqual({ value, file: verdict });
      }),
      { numRuns: 1500 },
    );
    // The generator reaches both sides of the rule.
    expect(accepted).toBeGreaterThan(10);
  });

  it('accept the same client scope values', () => {
    const file = ajv.compile({ $ref: `${POLICY_SCHEMA.$id}#/definitions/client/properties/scope` });
    const api = apiAccepts(createClientBody, (v) => ({ client_name: 'c', scope: v }));
    const scopes = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '"', '\\', '~', '!', '\t', 'é'), maxLength: 12 });
    fc.assert(fc.property(scopes, (value) => expect({ value, file: file(value) }).toEqual({ value, file: api(value) })), { numRuns: 1500 });
  });
});
