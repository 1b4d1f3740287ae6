/**
 * `npm start`: the whole service locally on embedded defaults. Ctrl-C stops what it started;
 * a second start reuses .local (data, API key, AWS key pair).
 *
 * Environment: PORT (3000: the HTTP API), FUNCTION_URL_PORT (3001: enrich-token's Function URL;
 * 0: any free port), DATABASE_URL (else embedded PostgreSQL on EMBEDDED_PG_PORT, 54329),
 * ENRICH_API_KEYS (else a generated key), BOOTSTRAP_ADMIN_SUBJECT (iam-dev-admin),
 * IAM_LOCAL_DIR (.local), RAUTH_URL (else the dev IdP on DEV_IDP_PORT, 4100).
 */
import { fileURLToPath } from 'node:url';

const { startStack } = await import('./stack.js');
const stateDir = process.env.IAM_LOCAL_DIR || fileURLToPath(new URL('../.local', import.meta.url));

try {
  const stack = await startStack(
    {
      stateDir,
      port: Number(process.env.PORT ?? 3000),
      functionUrlPort: Number(process.env.FUNCTION_URL_PORT ?? 3001),
      databaseUrl: process.env.DATABASE_URL || undefined,
      apiKeys: process.env.ENRICH_API_KEYS || undefined,
      bootstrapAdminSubject: process.env.BOOTSTRAP_ADMIN_SUBJECT || 'iam-dev-admin',
      embeddedPostgresPort: Number(process.env.EMBEDDED_PG_PORT || 54329),
      rauthUrl: process.env.RAUTH_URL || undefined,
      devIdpPort: Number(process.env.DEV_IDP_PORT || 4100),
    },
    process.env,
  );
  const { info } = stack;
  process.stdout.write(
    [
      '',
      'iam-service is running (Ctrl-C stops it)',
      `  api_url          ${info.api_url}`,
      `  enrich_api_url   ${info.enrich_api_url}  (HTTP API route: X-API-Key or Basic password; = enrich_url)`,
      `  enrich_iam_url   ${info.enrich_iam_url}  (Function URL, AWS_IAM: SigV4 only)`,
      `  forward_auth_url ${info.forward_auth_url}`,
      `  api_key          ${info.api_key}`,
      `  aws              region=${info.aws.region} service=lambda access_key_id=${info.aws.access_key_id}`,
      `                   secret_access_key=${info.aws.secret_access_key}`,
      `  database         ${info.database}`,
      `  demo             subject=${info.demo.subject} tenant=${info.demo.tenant}`,
      `  written to       ${stateDir}/stack.json`,
      `  idp              ${info.idp.issuer}${info.idp.admin ? ` (dev IdP; admin client ${info.idp.admin.client_id})` : ''}`,
      '',
      'Try it (API key, HTTP API route):',
      `  ${info.curl}`,
      '',
      'Signed with SigV4 (Function URL; curl >= 7.75):',
      `  ${info.iam_curl}`,
      ...(info.idp.token_curl
        ? ['', 'An admin token (client-credentials grant; jq -r .access_token):', `  ${info.idp.token_curl}`, '', 'The admin API with it:', `  ${info.idp.admin_curl}`]
        : []),
      '',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping…\n');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`npm start failed: ${message}\n`);
  process.exit(1);
}
