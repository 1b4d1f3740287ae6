/** The admin API's caller, as proven by a bearer access token from R-Auth. */
export interface AccessTokenVerifier {
  /**
   * Resolves the token's subject and its verified claims, or throws UnauthorizedError
   * (DependencyUnavailableError if the IdP is down).
   */
  verify(token: string): Promise<{ subject: string; claims: Readonly<Record<string, unknown>> }>;
}
