/**
 * Admin authentication: the bearer token must be a JWT from the configured issuer, for this
 * audience, current, signed by a key in the issuer's JWKS with an allowed algorithm, and name
 * a subject. Every other token is a 401 problem with a Bearer challenge that never echoes it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, SignJWT } from 'jose';
import { jwtVerifier } from '../../lib/adapters/oidc/jwt-verifier.js';
import { IdpUnavailableError } from '../../lib/admin/idp-admin.js';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
import { mintAccessToken } from '../support/dev-idp.js';
import { BOOTSTRAP_ADMIN } from '../support/test-database.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('admin API bearer-token authentication', () => {
  let stack: AdminStack;
  /** A fresh platform-admin token from the IdP's client-credentials grant. */
  let good: string;
  /** name → the Authorization header value to send (undefined: no header). */
  const bad = new Map<string, string | undefined>();

  const call = (authorization: string | undefined) =>
    stack.call('none', 'GET', '/tenants', undefined, authorization === undefined ? {} : { authorization });

  beforeAll(async () => {
    stack = await startAdminStack();
    const { idp } = stack;
    good = await idp.clientCredentialsToken(idp.admin);
    const claims = { sub: BOOTSTRAP_ADMIN, iss: idp.issuer, aud: idp.audience, iat: now(), exp: now() + 300 };
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const strangerJwk = await exportJWK(stranger.publicKey);
    const published = ((await (await fetch(idp.jwksUri)).json()) as { keys: Record<string, unknown>[] }).keys[0]!;
    const publishedPem = createPublicKey({ key: published as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const hs256 = (secret: Uint8Array) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: idp.signingKey.kid, typ: 'at+jwt' }).sign(secret);
    const userToken = (stack.headers('user').authorization ?? '').replace(/^Bearer /, '');
    const [userHeader, , userSignature] = userToken.split('.');

    const tokens: Record<string, string> = {
      'an unsigned token (alg none)': `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`,
      'an alg none token that carries a signature anyway': `${b64url({ alg: 'none' })}.${b64url(claims)}.${good.split('.')[2]}`,
      'a token from another issuer': await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, iss: 'http://127.0.0.1:9/not-the-idp' }),
      'a token for another audience': await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, aud: 'urn:citadel:billing' }),
      'a token whose audience list leaves this service out': await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, aud: ['urn:a', 'urn:b'] }),
      'an expired token': await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, iat: now() - 600, exp: now() - 60 }),
      'a token that is not valid yet (nbf in the future)': await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, nbf: now() + 600 }),
      'a token without exp': await mintAccessToken(idp, { sub: BOOTSTRAP_ADMIN, exp: undefined }),
      'a token without sub': await mintAccessToken(idp, { sub: undefined as unknown as string }),
      // A real token of a plain user with its subject flipped to the platform admin; signature kept.
      'a real token with a tampered payload': `${userHeader}.${b64url({ ...decodePart(userToken, 1), sub: BOOTSTRAP_ADMIN })}.${userSignature}`,
      'an expired token re-dated without re-signing': (() => {
        const expired = (stack.headers('expired').authorization ?? '').replace(/^Bearer /, '');
        const [header, , signature] = expired.split('.');
        return `${header}.${b64url({ ...decodePart(expired, 1), exp: now() + 3600 })}.${signature}`;
      })(),
      "a token signed by a foreign key under the IdP's kid": (stack.headers('wrongKey').authorization ?? '').replace(/^Bearer /, ''),
      'a token signed by a foreign key under an unknown kid': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'attacker-key', typ: 'at+jwt' })
        .sign(stranger.privateKey),
      'a token that embeds its own verification key (jwk header)': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', jwk: strangerJwk, typ: 'at+jwt' })
        .sign(stranger.privateKey),
      'a token that points at its own key set (jku header)': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', jku: 'http://127.0.0.1:9/jwks', kid: 'attacker-key', typ: 'at+jwt' })
        .sign(stranger.privateKey),
      'an HS256 token keyed with the published JWK (algorithm confusion)': await hs256(new TextEncoder().encode(JSON.stringify(published))),
      'an HS256 token keyed with the published key as PEM (algorithm confusion)': await hs256(new TextEncoder().encode(publishedPem)),
      'a token with an unknown critical header': await mintCritical(),
      'a token with garbage after its signature': `${good}AAAA`,
      'a token cut after its payload': good.split('.').slice(0, 2).join('.'),
      'a string that is not a JWT': 'not-a-jwt',
    };

    /** jose refuses to sign an unknown critical header, so this one is signed by hand with the IdP's key. */
    async function mintCritical(): Promise<string> {
      const header = { alg: 'ES256', kid: idp.signingKey.kid, typ: 'at+jwt', crit: ['urn:example:must-understand'], 'urn:example:must-understand': true };
      const input = `${b64url(header)}.${b64url(claims)}`;
      const key = createPrivateKey({ key: idp.signingKey as never, format: 'jwk' });
      return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    }

    for (const [name, token] of Object.entries(tokens)) bad.set(name, `Bearer ${token}`);
    bad.set('no Authorization header', undefined);
    bad.set('a Basic credential', `Basic ${Buffer.from(`${idp.admin.client_id}:${idp.admin.client_secret}`).toString('base64')}`);
    bad.set('the Bearer scheme with no token', 'Bearer');
    bad.set('a bare token with no scheme', good);
    bad.set('another scheme carrying a valid token', `Token ${good}`);
    bad.set('a valid token followed by a second credential', `Bearer ${good} ${good}`);
    bad.set('a valid token with a quoted value', `Bearer "${good}"`);
  });
  afterAll(() => stack?.stop());

  it('accepts a fresh token from the IdP', async () => {
    const answer = await call(`Bearer ${good}`);
    expect(answer.status).toBe(200);
    expect(Array.isArray(answer.json.items)).toBe(true);
  });

  it('refuses every malformed or untrustworthy credential with 401, a Bearer challenge and no echo of the token', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [name, authorization] of bad) {
      const answer = await call(authorization);
      const text = JSON.stringify(answer.json ?? null);
      const credential = authorization?.replace(/^\S+\s*/, '') ?? '';
      const echoed = credential.split(/[.\s]/).filter((part) => part.length >= 16 && text.includes(part));
      outcomes[name] = {
        status: answer.status,
        contentType: answer.headers.get('content-type'),
        challenge: /^Bearer\b/.test(answer.headers.get('www-authenticate') ?? ''),
        problem: answer.json?.status === 401 && answer.json?.request_id === answer.headers.get('x-request-id') && typeof answer.json?.detail === 'string',
        echoed,
      };
    }
    const expected = Object.fromEntries(
      [...bad.keys()].map((name) => [name, { status: 401, contentType: 'application/problem+json', challenge: true, problem: true, echoed: [] }]),
    );
    expect(outcomes).toEqual(expected);
  });

  it('refuses with 401 a token whose sub is not a non-empty string (RFC 7519 §4.1.2)', async () => {
    const subs: Record<string, unknown> = { number: 123, array: [BOOTSTRAP_ADMIN], object: { id: BOOTSTRAP_ADMIN }, empty: '' };
    const outcomes: Record<string, unknown> = {};
    for (const [name, sub] of Object.entries(subs)) {
      const answer = await call(`Bearer ${await mintAccessToken(stack.idp, { sub: sub as string })}`);
      outcomes[name] = [answer.status, /^Bearer\b/.test(answer.headers.get('www-authenticate') ?? '')];
    }
    expect(outcomes).toEqual({ number: [401, true], array: [401, true], object: [401, true], empty: [401, true] });
  });

  it('tells a missing token from an invalid one in the challenge (RFC 6750 §3)', async () => {
    expect((await call(undefined)).headers.get('www-authenticate')).toBe('Bearer realm="iam-service"');
    expect((await call('Bearer not.a.jwt')).headers.get('www-authenticate')).toBe('Bearer realm="iam-service", error="invalid_token"');
  });

  it('reads the auth scheme case-insensitively, as RFC 9110 §11.1 requires', async () => {
    const statuses = await Promise.all([`bearer ${good}`, `BEARER ${good}`, `bEaReR ${good}`].map(async (h) => (await call(h)).status));
    expect(statuses).toEqual([200, 200, 200]);
  });

  it('accepts more than one space between scheme and token, as RFC 9110 §11.4 allows (1*SP)', async () => {
    expect((await call(`Bearer  ${good}`)).status).toBe(200);
  });

  it('still answers 200 with the fresh token after all the refusals', async () => {
    expect((await call(`Bearer ${good}`)).status).toBe(200);
  });
  describe('while the IdP cannot give its keys', () => {
    const verifierWith = (issuer: string, network: typeof fetch) => {
      const counted: string[] = [];
      const verifier = jwtVerifier({
        issuer,
        audience: stack.idp.audience,
        algorithms: ['ES256'],
        timeoutMs: 1000,
        metrics: { idpError: (operation) => void counted.push(operation) },
        fetch: network,
      });
      return { verifier, counted };
    };

    it('answers 502 idp-unavailable, counted as discovery, when discovery fails; never 401', async () => {
      const { verifier, counted } = verifierWith(stack.idp.issuer, async () => new Response('down', { status: 503 }));
      await expect(verifier.verify(good)).rejects.toMatchObject({ constructor: IdpUnavailableError, status: 502, code: 'idp-unavailable', expose: false, operation: 'discovery' });
      expect(counted).toEqual(['discovery']);
    });

    it('answers 502 idp-unavailable, counted as jwks, when the key set answers 500 or is too large', async () => {
      for (const jwks of [new Response('oops', { status: 500 }), new Response(JSON.stringify({ keys: [], padding: 'x'.repeat(300 * 1024) }), { status: 200 })]) {
        const network: typeof fetch = (url, init) => (String(url) === stack.idp.jwksUri ? Promise.resolve(jwks) : fetch(url, init));
        const { verifier, counted } = verifierWith(stack.idp.issuer, network);
        await expect(verifier.verify(good)).rejects.toMatchObject({ constructor: IdpUnavailableError, status: 502, operation: 'jwks' });
        expect(counted).toEqual(['jwks']);
      }
    });
  });
});
