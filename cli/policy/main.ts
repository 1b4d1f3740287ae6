/**
 * `iam-policy` (`npm run policy -- <command>`): tenants, roles, user mappings and OAuth clients
 * kept in a file, through the admin API only.
 *
 *   export [--tenant SLUG]…                          the API's policy as YAML, on stdout
 *   plan FILE [--prune]                              what apply would change (exit 0: none, 2: some)
 *   apply FILE [--prune] [--yes] [--secrets-out P]   make the API hold what FILE says
 *
 * Exit codes: 0 done / no changes, 1 error (nothing is applied after it), 2 plan has changes.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { adminApi, ApiProblem, ApiUnreachable } from './admin-api.js';
import { applyPlan } from './apply.js';
import { CliError } from './cli-error.js';
import { callerPath, connect } from './connection.js';
import { defaultSchemaRef, toYaml } from './export-yaml.js';
import { callerScope, exportPolicy } from './live-state.js';
import { makePlan } from './planner.js';
import { PolicyFileError, readPolicyFile } from './policy-file.js';
import { renderPlan } from './render.js';
import { openSecretsFile } from './secrets-file.js';

export const USAGE = `usage: iam-policy <command> [options]   (npm run -s policy -- <command> …)

  export [--tenant SLUG]…      write the policy as YAML to stdout (a tenant admin names their tenant)
  plan FILE [--prune]          show what apply would change: exit 0 none, 2 changes, 1 error
  apply FILE [--prune] [--yes] [--secrets-out PATH]
                               apply the plan (asks first unless --yes); new clients' secrets go to PATH (0600)

  --api URL, --token T         the admin API and a bearer token (else IAM_API_URL, IAM_TOKEN,
                               else npm start's .local/stack.json and a token from its dev IdP)
  --prune                      also delete what the API has and the file's sections do not
  --schema-ref REF             export: the $schema the first line names (default: the repo's schema, relative to here)
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Asks a question on the terminal, or undefined when there is none. */
  confirm: ((question: string) => Promise<boolean>) | undefined;
}

export const EXIT = { ok: 0, error: 1, changes: 2 } as const;

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    io.err(`iam-policy: ${describe(error)}\n`);
    return EXIT.error;
  }
}

function describe(error: unknown): string {
  if (error instanceof PolicyFileError) return `${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} in ${error.file}:\n${error.message}`;
  if (error instanceof ApiProblem) return `the admin API answered ${error.message}`;
  if (error instanceof CliError || error instanceof ApiUnreachable) return error.message;
  if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) return `${error.message}\n${USAGE}`;
  throw error;
}

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string', multiple: true },
      prune: { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      'secrets-out': { type: 'string' },
      'schema-ref': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, file, ...extra] = positionals;
  if (values.help || command === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (command === undefined) throw new CliError(`no command\n${USAGE}`);
  if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}\n${USAGE}`);

  if (command === 'export') {
    if (file !== undefined) throw new CliError('export takes no FILE: it writes to stdout (export > policy.yaml)');
    const connection = await connect(values);
    const api = adminApi(connection.url, connection.token);
    const policy = await exportPolicy(api, await callerScope(api), values.tenant ?? []);
    io.out(toYaml(policy, values['schema-ref'] ?? defaultSchemaRef(callerPath('.'))));
    return EXIT.ok;
  }
  if (command !== 'plan' && command !== 'apply') throw new CliError(`unknown command "${command}"\n${USAGE}`);
  if (file === undefined) throw new CliError(`${command} needs a FILE`);
  if (values.tenant) throw new CliError(`--tenant is for export; ${command} reads the tenants from the file`);

  // The file first: a malformed one is reported without a network call.
  const policy = readPolicyFile(callerPath(file));
  const connection = await connect(values);
  const api = adminApi(connection.url, connection.token);
  const plan = await makePlan(api, policy, { prune: values.prune });
  io.out(renderPlan(plan));
  if (command === 'plan') return plan.changes.length === 0 ? EXIT.ok : EXIT.changes;

  if (plan.changes.length === 0) return EXIT.ok;
  const createsClients = plan.changes.some((c) => c.kind === 'client' && c.op === 'create');
  if (createsClients && values['secrets-out'] === undefined) {
    throw new CliError('refused before any change: the plan creates OAuth clients, whose secrets are returned once: name a file for them with --secrets-out PATH');
  }
  if (!values.yes) {
    if (!io.confirm) throw new CliError('refused: no terminal to confirm on; pass --yes to apply without asking');
    if (!(await io.confirm(`Apply these ${plan.changes.length} changes to ${api.url}? Type yes: `))) throw new CliError('not applied: not confirmed');
  }
  const secrets = createsClients ? openSecretsFile(callerPath(values['secrets-out']!)) : undefined;
  const result = await applyPlan(api, plan, secrets, (line) => io.out(`${line}\n`));
  if (result.failed) {
    io.out(`Stopped after ${result.applied.length} of ${plan.changes.length} changes. Re-run apply to finish: it plans again and does only what is left.\n`);
    return EXIT.error;
  }
  const count = (op: string) => result.applied.filter((c) => c.op === op).length;
  io.out(`Applied ${result.applied.length} change${result.applied.length === 1 ? '' : 's'}: ${count('create')} created, ${count('update')} updated, ${count('delete')} deleted.\n`);
  return EXIT.ok;
}

/** Yes/no on the terminal (stdin and stderr, so stdout stays the plan). */
export function terminalConfirm(): Io['confirm'] {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return (await rl.question(question)).trim().toLowerCase() === 'yes';
    } finally {
      rl.close();
    }
  };
}
