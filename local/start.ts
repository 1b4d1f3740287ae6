/**
 * `npm start`: the whole service locally on embedded defaults. Ctrl-C stops what it started;
 * a second start reuses .local (data, API key, AWS key pair).
 *
 * Environment: PORT (3000: the HTTP API), FUNCTION_URL_PORT (3001: enrich-token's Function URL;
 * 0: any free port), DATABASE_URL (else embedded PostgreSQL on EMBEDDED_PG_PORT, 54329),
 * ENRICH_API_KEYS (else a generated key), BOOTSTRAP_ADMIN_SUBJECT (iam-dev-admin),
 * IAM_LOCAL_DIR (.local), RAUTH_URL (else the dev IdP on DEV_IDP_PORT, 4100), NATS_URL (events;
 * or IAM_LOCAL_NATS=1: a nats-server of its own).
 *
 * A failure is one line on stderr, `npm start failed: <cause and what to change>`, and exit code 1.
 */
import { fileURLToPath } from 'node:url';

const { startStack } = await import('./stack.js');
const { ConfigError } = await import('../lib/errors.js');
const { oneLine } = await import('./start-errors.js');
const stateDir = process.env.IAM_LOCAL_DIR || fileURLToPath(new URL('../.local', import.meta.url));

/** A port variable: a whole number 0-65535, else the configuration error that names it. */
function port(variable: string, fallback: number): number {
  const value = process.env[variable];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new ConfigError([{ path: variable, message: 'must be a port number (0-65535)' }]);
  return number;
}

try {
  const stack = await startStack(
    {
      stateDir,
      port: port('PORT', 3000),
      functionUrlPort: port('FUNCTION_URL_PORT', 3001),
      databaseUrl: process.env.DATABASE_URL || undefined,
      apiKeys: process.env.ENRICH_API_KEYS || undefined,
      bootstrapAdminSubject: process.env.BOOTSTRAP_ADMIN_SUBJECT || 'iam-dev-admin',
      embeddedPostgresPort: port('EMBEDDED_PG_PORT', 54329),
      rauthUrl: process.env.RAUTH_URL || undefined,
      devIdpPort: port('DEV_IDP_PORT', 4100),
      localNats: ['1', 'true'].includes(process.env.IAM_LOCAL_NATS ?? ''),
    },
    process.env,
  );
  const { info } = stack;
  const events = info.events;
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
      events
        ? `  events           ${events.nats_url}${events.local_server ? ' (its own nats-server)' : ''}, stream ${events.stream}: ${events.status}${events.detail ? ` (${events.detail})` : ''}`
        : '  events           kept in the outbox (NATS_URL=ws://… or IAM_LOCAL_NATS=1 publishes them)',
      `  requests         ${info.requests.dir}/{hydra,oathkeeper,cognito-v2}.json (Hydra, Oathkeeper, Cognito shapes)`,
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
      'As Ory Hydra (token hook), Ory Oathkeeper (hydrator) and Cognito (pre token generation) call it:',
      `  ${info.requests.hydra}`,
      `  ${info.requests.oathkeeper}`,
      `  ${info.requests.cognito}`,
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
  process.stderr.write(`npm start failed: ${oneLine(error)}\n`);
  process.exit(1);
}
