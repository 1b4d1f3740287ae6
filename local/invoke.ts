/**
 * `npm run invoke -- <function> <event.json>`: invokes one function's handler in-process with an
 * event from a file, against the stack `npm start` runs (its database, its IdP), as
 * `aws lambda invoke` / `serverless invoke -f` do in AWS. For the functions that are no HTTP
 * route — above all the Cognito trigger: `npm run invoke -- cognito .local/requests/cognito-v2.json`.
 *
 * The answer goes to stdout (JSON); the function's log and metric lines to stderr. Exit 0 with
 * the answer, 1 when the function throws (for Cognito: the sign-in is refused) with its message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lambdaContext } from './http-front.js';

/** Short names for the functions one invokes by hand; any other functions/<file> name works too. */
const ALIASES: Record<string, string> = { cognito: 'cognito-pre-token', 'cognito-pre-token-generation': 'cognito-pre-token', relay: 'outbox-relay', reconcile: 'client-reconcile' };

const fail = (message: string, code = 2): never => {
  process.stderr.write(`npm run invoke: ${message}\n`);
  process.exit(code);
};

const [name, file] = process.argv.slice(2);
if (!name || !file) fail('usage: npm run invoke -- <function> <event.json>   e.g. npm run invoke -- cognito .local/requests/cognito-v2.json');
const fn = ALIASES[name!] ?? name!;
const source = fileURLToPath(new URL(`../functions/${fn}.ts`, import.meta.url));
if (!/^[a-z0-9-]+$/.test(fn) || !existsSync(source)) fail(`no function "${name}" (functions/${fn}.ts); short names: ${Object.keys(ALIASES).join(', ')}`);

// npm runs scripts in the package root; a relative path means the caller's directory.
const eventPath = resolve(process.env.INIT_CWD ?? process.cwd(), file!);
let event: unknown;
try {
  event = JSON.parse(readFileSync(eventPath, 'utf8'));
} catch (error) {
  fail(`cannot read the event ${eventPath}: ${(error as Error).message}`);
}

const stateDir = process.env.IAM_LOCAL_DIR || fileURLToPath(new URL('../.local', import.meta.url));
const envFile = join(stateDir, 'function-env.json');
if (!existsSync(envFile)) fail(`${envFile} is missing: run npm start first (the function uses its database and IdP)`);
// The functions read their configuration from the environment, as on Lambda: the one npm start gave them.
Object.assign(process.env, JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>);

const answer = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const { handler } = (await import(`../functions/${fn}.js`)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
try {
  const result = await handler(event, lambdaContext(`/${fn}`));
  answer(JSON.stringify(result, null, 2) + '\n', () => process.exit(0));
} catch (error) {
  const status = (error as { status?: unknown }).status;
  const hint = typeof status === 'number' && status >= 500 ? ' (is npm start running?)' : '';
  fail(`${fn} threw: ${error instanceof Error ? error.message : String(error)}${hint}`, 1);
}
