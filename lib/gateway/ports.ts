/** What the gateway dialects need from outside lib/gateway/ (the claims core is lib/policy/'s). */

/**
 * An access token's signature, issuer, audience, expiry and `typ`, checked against the IdP's
 * JWKS (lib/adapters/oidc/jwt-verifier.ts, the same check as the admin API's, pointed at
 * forward-auth's audience). Throws UnauthorizedError, or DependencyUnavailableError when the IdP is down.
 */
export interface TokenSignatureVerifier {
  verify(token: string): Promise<{ subject: string; claims: Readonly<Record<string, unknown>> }>;
}
