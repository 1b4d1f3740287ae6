/**
 * A script's first AWS step: resolve credentials through the SDK's default chain (environment,
 * AWS_PROFILE / shared files, SSO, web identity, container and instance metadata), so that a
 * machine without any says so in one line before anything else runs (serverless prints its own
 * error on stdout, where a script that parses its output would swallow it).
 */
export class NoAwsCredentialsError extends Error {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `no AWS credentials (${reason}): set AWS_PROFILE to a profile in ~/.aws/config (aws sso login --profile <p> for SSO), ` +
        'or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, for the account of the stage',
      { cause },
    );
  }
}

/** Resolves the client's credentials once; throws NoAwsCredentialsError when none can be found. */
export async function requireAwsCredentials(client: { config: { credentials: () => Promise<unknown> } }): Promise<void> {
  try {
    await client.config.credentials();
  } catch (error) {
    throw new NoAwsCredentialsError(error);
  }
}
