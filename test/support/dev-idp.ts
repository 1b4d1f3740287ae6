/**
 * Access tokens signed with the dev IdP's own key but with claims a test chooses: expired,
 * for another audience, from another issuer. Only the signature is real, which is the point —
 * the service must reject these for their claims, not for an unknown key.
 */
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import type { DevIdp } from '../../local/dev-idp.js';

export interface MintedClaims extends JWTPayload {
  sub: string;
}

/** Defaults: `iss` and `aud` of the IdP, issued now, valid five minutes; `claims` override any of them. */
export async function mintAccessToken(idp: DevIdp, claims: MintedClaims): Promise<string> {
  const key = await importJWK(idp.signingKey, idp.signingKey.alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: idp.issuer, aud: idp.audience, iat: now, exp: now + 300, client_id: claims.sub, ...claims })
    .setProtectedHeader({ alg: idp.signingKey.alg, kid: idp.signingKey.kid, typ: 'at+jwt' })
    .sign(key);
}
