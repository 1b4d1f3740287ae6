/**
 * Where the admin API is and which token to send: `--api`/`--token`, else IAM_API_URL/IAM_TOKEN,
 * else what `npm start` wrote to `.local/stack.json` (the API's URL, and a fresh platform-admin
 * token from its dev IdP by the client-credentials grant, as the README's curl lines get one).
 * The only module of the CLI that reads the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './cli-error.js';

export interface Connection {
  url: string;
  token: string;
}

interface StackFile {
  api_url?: string;
  idp?: { token_endpoint?: string; admin?: { client_id: string; client_secret: string } };
}

/** `npm start`'s state directory: IAM_LOCAL_DIR, as npm start and npm run invoke read it, else `.local` in the checkout. */
export const stateDir = () => process.env.IAM_LOCAL_DIR || fileURLToPath(new URL('../../.local', import.meta.url));

/** npm runs scripts in the package root; a relative path means the caller's directory. */
export const callerPath = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);

export async function connect(flags: { api?: string | undefined; token?: string | undefined }): Promise<Connection> {
  const url = flags.api ?? process.env.IAM_API_URL;
  const token = flags.token ?? process.env.IAM_TOKEN;
  if (url && token) return { url, token };
  const stackPath = join(stateDir(), 'stack.json');
  if (!existsSync(stackPath)) {
    throw new CliError(`no admin API named: pass --api URL and --token T, set IAM_API_URL and IAM_TOKEN, or run npm start (${stackPath} is missing)`);
  }
  const stack = JSON.parse(readFileSync(stackPath, 'utf8')) as StackFile;
  if (!stack.api_url) throw new CliError(`${stackPath} has no api_url`);
  if (token) return { url: url ?? stack.api_url, token };
  return { url: url ?? stack.api_url, token: await devIdpToken(stack, stackPath) };
}

async function devIdpToken(stack: StackFile, stackPath: string): Promise<string> {
  const endpoint = stack.idp?.token_endpoint;
  const admin = stack.idp?.admin;
  if (!endpoint || !admin) throw new CliError(`${stackPath} names no dev IdP (npm start ran with RAUTH_URL): pass --token or set IAM_TOKEN`);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(admin.client_id)}:${encodeURIComponent(admin.client_secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
  } catch (error) {
    throw new CliError(`cannot reach the dev IdP at ${endpoint} (is npm start running?): ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!response.ok || !body.access_token) throw new CliError(`the dev IdP refused a token for ${admin.client_id}: ${response.status} ${body.error ?? ''}`.trim());
  return body.access_token;
}
