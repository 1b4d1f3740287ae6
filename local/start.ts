/**
 * `npm start`: the whole service locally on embedded defaults. Ctrl-C stops what it started;
 * a second start reuses .local (data, API key).
 *
 * Environment: PORT (3000), DATABASE_URL (else embedded PostgreSQL on EMBEDDED_PG_PORT,
 * 54329), ENRICH_API_KEYS (else a generated key), BOOTSTRAP_ADMIN_SUBJECT (iam-dev-admin),
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
      `  api_url     ${info.api_url}`,
      `  enrich_url  ${info.enrich_url}`,
      `  api_key     ${info.api_key}`,
      `  database    ${info.database}`,
      `  demo        subject=${info.demo.subject} tenant=${info.demo.tenant}`,
      `  written to  ${stateDir}/stack.json`,
      `  idp         ${info.idp.issuer}${info.idp.admin ? ` (dev IdP; admin client ${info.idp.admin.client_id})` : ''}`,
      '',
      'Try it:',
      `  ${info.curl}`,
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
