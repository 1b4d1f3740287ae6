/**
 * Bearer tokens must say they are access tokens: the JWT `typ` header is `at+jwt` (RFC 9068,
 * `application/at+jwt` too), or `JWT` where ADMIN_TOKEN_ALLOW_JWT_TYP allows it. An ID token or
 * any other JWT that the IdP signs for this audience is refused with 401, and the reason names
 * the header without echoing the token. The dev IdP (oidc-provider) issues `at+jwt`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importJWK, type JWTHeaderParameters, SignJWT } from 'jose';
import { jwtVerifier } from '../../lib/adapters/oidc/jwt-verifier.js';
import { UnauthorizedError } from '../../lib/errors.js';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
import { BOOTSTRAP_ADMIN } from '../support/test-database.js';

describe('the access token type (JWT typ header)', () => {
  let stack: AdminStack;

  /** A platform-admin token signed with the IdP's own key, typed as the test says (undefined: no typ). */
  async function token(typ: string | undefined): Promise<string> {
    const { idp } = stack;
    const now = Math.floor(Date.now() / 1000);
    const header: JWTHeaderParameters = { alg: idp.signingKey.alg, kid: idp.signingKey.kid, ...(typ === undefined ? {} : { typ }) };
    return new SignJWT({ sub: BOOTSTRAP_ADMIN, iss: idp.issuer, aud: idp.audience, iat: now, exp: now + 300 })
      .setProtectedHeader(header)
      .sign(await importJWK(idp.signingKey, idp.signingKey.alg));
  }

  const call = async (typ: string | undefined) => {
    const bearer = await token(typ);
    const answer = await stack.call('none', 'GET', '/tenants', undefined, { authorization: `Bearer ${bearer}` });
    return { status: answer.status, detail: answer.json?.detail as string | undefined, echoed: JSON.stringify(answer.json ?? null).includes(bearer.split('.')[0]!) };
  };

  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.stop());

  it('accepts the tokens the dev IdP issues, typed at+jwt', async () => {
    const issued = (stack.headers('platformAdmin').authorization ?? '').replace(/^Bearer /, '');
    expect(JSON.parse(Buffer.from(issued.split('.')[0]!, 'base64url').toString('utf8')).typ).toBe('at+jwt');
    expect((await stack.call('platformAdmin', 'GET', '/tenants')).status).toBe(200);
  });

  it('accepts at+jwt in any case and with the application/ prefix (RFC 7515 §4.1.9)', async () => {
    const statuses = await Promise.all(['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+JWT'].map(async (typ) => (await call(typ)).status));
    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  it('refuses with 401 a token typed JWT, another type or none, saying why without echoing it', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const typ of ['JWT', 'jwt', 'application/jwt', 'JOSE', 'secevent+jwt', 'logout+jwt', 'at+jwt ', '', undefined]) {
      const { status, detail, echoed } = await call(typ);
      outcomes[String(typ)] = { status, mentionsTyp: /"typ" header/.test(detail ?? ''), echoed };
    }
    expect(Object.values(outcomes)).toEqual(Object.values(outcomes).map(() => ({ status: 401, mentionsTyp: true, echoed: false })));
  });

  it('also accepts typ JWT, but never a token without typ, when the setting allows JWT', async () => {
    const { idp } = stack;
    const options = { issuer: idp.issuer, audience: idp.audience, algorithms: ['ES256'], timeoutMs: 3_000, metrics: { idpError: () => undefined } };
    const lenient = jwtVerifier({ ...options, allowJwtTyp: true });
    const strict = jwtVerifier(options);
    await expect(lenient.verify(await token('JWT'))).resolves.toMatchObject({ subject: BOOTSTRAP_ADMIN });
    await expect(lenient.verify(await token('at+jwt'))).resolves.toMatchObject({ subject: BOOTSTRAP_ADMIN });
    await expect(lenient.verify(await token(undefined))).rejects.toThrow(new UnauthorizedError('The access token has no "typ" header; an RFC 9068 access token ("at+jwt") is required.'));
    await expect(lenient.verify(await token('JOSE'))).rejects.toThrow(/"at\+jwt" or "JWT"/);
    await expect(strict.verify(await token('JWT'))).rejects.toThrow(UnauthorizedError);
  });
});
