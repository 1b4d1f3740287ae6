/**
 * Keeps RUNBOOK.md true to the code. An on-call engineer pastes its commands and queries as they
 * are, so every name in it must exist: npm scripts, log messages, metrics, environment variables,
 * functions, alarms, secrets, params, metric dimensions, tables and the runbook's own links.
 *
 * Conventions the runbook follows (and this test reads):
 * - log messages are quoted in the "Log lines" table (first column), in Logs Insights queries
 *   (`msg = "…"`, `msg in […]`, `msg like /…/`) and in prose as "log line `…`"; a `<word>` in a
 *   message stands for a `${…}` in the source's template literal;
 * - shell commands write the stage as `$STAGE`, prose as `<stage>`.
 *
 * test/integration/runbook-log-fields.test.ts runs the failures and checks the runbook's queries
 * and field paths against the log lines the code really prints.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type ScalarTag } from 'yaml';
import { ADMIN_ROUTES } from '../../lib/admin/routes.js';
import { METRIC } from '../../lib/observability/metrics.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const runbook = read('RUNBOOK.md');

const all = (text: string, pattern: RegExp, group = 1): string[] => [...text.matchAll(pattern)].map((m) => m[group] ?? '');
const unique = (values: readonly string[]) => [...new Set(values)];
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The .ts files under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith('.ts') ? [read(file)] : [];
  });
}

const code = ['lib', 'functions', 'scripts'].flatMap(sources).join('\n');

/** First argument of every logger call in the source: `log.warn('…'`, `.error(\`…${x}…\``. */
const logMessages = unique(all(code, /\.(?:debug|info|warn|error)\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g, 2));

/** Does `message` (from the runbook) name a log message the code writes? */
function isLogged(message: string): boolean {
  if (logMessages.includes(message)) return true;
  // `<operation>` in the runbook stands for `${operation}` (or any expression) in a template.
  if (/<[^>]+>/.test(message)) {
    const pattern = new RegExp(`^${escape(message).replace(/<[^>]+>/g, '\\$\\{[^}]+\\}')}$`);
    return logMessages.some((logged) => pattern.test(logged));
  }
  // A concrete instance of a template: "failed to update client in upstream IdP".
  return logMessages.some(
    (logged) => logged.includes('${') && new RegExp(`^${logged.split(/\$\{[^}]+\}/).map(escape).join('.+')}$`).test(message),
  );
}

/** Is `message` an instance of the runbook placeholder form `row` ("failed to <operation> …")? */
function isLoggedAs(row: string, message: string): boolean {
  return new RegExp(`^${escape(row).replace(/<[^>]+>/g, '.+')}$`).test(message);
}

/** The section under a `## ` heading, up to the next one. */
function section(title: string): string {
  const start = runbook.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`RUNBOOK.md has no "## ${title}" section`);
  const end = runbook.indexOf('\n## ', start + 1);
  return runbook.slice(start, end < 0 ? undefined : end);
}

/** The bodies of fenced code blocks of one language. */
const blocks = (language: string) => all(runbook, new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'));

/** Shell commands, continuation lines joined. */
const commands = blocks('sh').flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'));

// --- What the runbook quotes ---

const messagesInTable = section('Log lines')
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .slice(2) // header and separator
  .map((line) => /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1] ?? `(row without a quoted message: ${line})`);

const messagesInQueries = [
  ...all(runbook, /\bmsg\s*=\s*"([^"]+)"/g),
  ...all(runbook, /\bmsg\s+in\s*\[([^\]]*)\]/g).flatMap((list) => all(list, /"([^"]+)"/g)),
];
const messagePatternsInQueries = all(runbook, /\bmsg\s+like\s*\/((?:\\\/|[^/])+)\//g);
const messagesInProse = [...all(runbook, /\blog lines?\s+`([^`]+)`/g), ...all(runbook, /`([^`]+)`\s+log lines?\b/g)];

const STAGE = String.raw`(?:<stage>|\$STAGE|\$\{STAGE\})`;
const stageNames = unique(all(runbook, new RegExp(`iam-service-${STAGE}-([A-Za-z0-9][A-Za-z0-9-]*)`, 'g')));
const secretNames = unique(all(runbook, new RegExp(`iam-service/${STAGE}/([a-z0-9-]+)`, 'g')));

// --- What the code and serverless.yml hold ---

const cfnScalar = (tag: string): ScalarTag => ({ tag, resolve: (value: string) => ({ [tag.slice(1)]: value }) });
interface ServerlessYml {
  custom: { serviceWide: { alarmCoverage: string[]; routeFunctions: { bundles: Record<string, { alarmGroup: string; alarmWith?: string[] }> } } };
  params: { default: Record<string, unknown> };
  provider: { environment: Record<string, unknown> };
  functions: Record<string, { environment?: Record<string, unknown> }>;
  resources: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
}
const serverless = parse(read('serverless.yml'), { merge: true, customTags: [cfnScalar('!Ref'), cfnScalar('!Sub')] }) as ServerlessYml;
/** The admin API's functions and their alarms, generated at package time (serverless/service-wide.cjs). */
const serviceWide = createRequire(import.meta.url)('../../serverless/service-wide.cjs') as {
  routeAlarmGroups(byBundle: Map<string, string[]>, bundles: ServerlessYml['custom']['serviceWide']['routeFunctions']['bundles']): Array<{ name: string }>;
};
const routeFunctions = Object.values(ADMIN_ROUTES).map((route) => route.lambda);
const routeAlarms = serviceWide
  .routeAlarmGroups(
    new Map(Object.keys(serverless.custom.serviceWide.routeFunctions.bundles).map((bundle) => [bundle, Object.values(ADMIN_ROUTES).filter((r) => r.bundle === bundle).map((r) => r.lambda)])),
    serverless.custom.serviceWide.routeFunctions.bundles,
  )
  .flatMap((group) => serverless.custom.serviceWide.alarmCoverage.map((metric) => `${group.name}-lambda-${metric.toLowerCase()}`));
const functionNames = [...Object.keys(serverless.functions), ...routeFunctions];
const params = serverless.params.default;
const STAGE_PREFIX = 'iam-service-${sls:stage}';

/** AlarmName, TopicName, DashboardName…: the suffix after `iam-service-${sls:stage}-`. */
const namedResources = Object.values(serverless.resources.Resources).flatMap((resource) =>
  Object.entries(resource.Properties ?? {})
    .filter(([key, value]) => key.endsWith('Name') && typeof value === 'string' && value.startsWith(`${STAGE_PREFIX}-`))
    .map(([, value]) => (value as string).slice(STAGE_PREFIX.length + 1)),
).concat(routeAlarms);
const alarmNames = Object.values(serverless.resources.Resources)
  .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
  .map((resource) => String(resource.Properties?.AlarmName).slice(STAGE_PREFIX.length + 1))
  .concat(routeAlarms);

const configSource = read('lib/config.ts');
const envSchema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(configSource)?.[1] ?? '';
const configVariables = all(envSchema, /^\s+([A-Z][A-Z0-9_]+):/gm);

/** Names in the runbook that look like environment variables but belong to AWS or Node's fetch (an undici error code). */
const AWS_NAMES = ['AWS_REGION', 'AWS_IAM', 'UND_ERR_SOCKET'];

const handlerNames = [...all(sources('functions').join('\n'), /\bname:\s*'(\/[^']+)'/g), ...Object.values(ADMIN_ROUTES).map((route) => route.path)];

const migrations = readdirSync(path.join(root, 'migrations'))
  .map((file) => read(path.join('migrations', file)))
  .join('\n');
const tables = all(migrations, /CREATE TABLE (\w+)/g);

/** GitHub's heading anchors (a `# ` line inside a code block is a shell comment, not a heading). */
const anchors = all(runbook.replace(/```[\s\S]*?```/g, ''), /^#{1,6} (.+)$/gm).map((heading) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-'),
);

describe('RUNBOOK.md', () => {
  it('names only npm scripts that package.json defines', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = unique([...all(runbook, /\bnpm run ([\w:-]+)/g), ...all(runbook, /\bnpm (start|test)\b/g)]);
    expect(named).toEqual(expect.arrayContaining(['deploy', 'rollback', 'migrate']));
    expect(named.filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('quotes only log messages the code writes, verbatim', () => {
    expect(messagesInTable.length).toBeGreaterThan(10);
    expect(messagesInQueries.length).toBeGreaterThan(5);
    const quoted = unique([...messagesInTable, ...messagesInQueries, ...messagesInProse]);
    expect(quoted.filter((message) => !isLogged(message))).toEqual([]);
  });

  it('matches every `msg like` pattern against a message the code writes', () => {
    expect(messagePatternsInQueries.length).toBeGreaterThan(0);
    const unmatched = messagePatternsInQueries.filter((pattern) => !logMessages.some((logged) => new RegExp(pattern).test(logged)));
    expect(unmatched).toEqual([]);
  });

  it('lists in its log line table every message a query or the prose relies on', () => {
    const outside = unique([...messagesInQueries, ...messagesInProse]).filter(
      (message) => !messagesInTable.some((row) => row === message || (row.includes('<') && isLoggedAs(row, message))),
    );
    expect(outside).toEqual([]);
  });

  it('names only the metrics the code emits, and all of them', () => {
    // The runbook's four, plus the outbox relay's backlog age.
    const four: string[] = Object.values(METRIC);
    expect(four).toContain('outbox_oldest_unpublished_age_seconds');
    const named = unique(all(runbook, /\b([a-z][a-z0-9]*(?:_[a-z0-9]+)*_(?:total|seconds))\b/g));
    expect(named.filter((metric) => !four.includes(metric))).toEqual([]);
    expect(four.filter((metric) => !named.includes(metric))).toEqual([]);
    const inOurNamespace = commands.filter((command) => /--namespace "\$NS"/.test(command));
    expect(inOurNamespace.length).toBeGreaterThan(0);
    expect(inOurNamespace.map((command) => /--metric-name (\S+)/.exec(command)?.[1] ?? '').filter((metric) => !four.includes(metric))).toEqual([]);
  });

  it('uses only metric dimensions and handler values the code writes', () => {
    const metricsSource = read('lib/observability/metrics.ts');
    const dimensions = unique([
      ...all(runbook, /Name=(\w+),Value=/g),
      ...all(runbook, /"Name":"(\w+)","Value"/g),
    ]).filter((name) => !['FunctionName', 'ProxyName'].includes(name)); // AWS/Lambda and AWS/RDS dimensions
    expect(dimensions.filter((name) => !metricsSource.includes(`'${name}'`))).toEqual([]);
    const handlers = unique([
      ...all(runbook, /\bhandler\s*=\s*"([^"]+)"/g),
      ...all(runbook, /Name=handler,Value=(\S+)/g),
      ...all(runbook, /"Name":"handler","Value":"([^"]+)"/g),
    ]);
    expect(handlers.length).toBeGreaterThan(0);
    expect(handlers.filter((handler) => !handlerNames.includes(handler))).toEqual([]);
  });

  it('names only environment variables lib/config.ts reads', () => {
    const named = unique(all(runbook, /\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g)).filter((name) => !AWS_NAMES.includes(name));
    expect(configVariables.length).toBeGreaterThan(20);
    expect(named.filter((name) => !configVariables.includes(name))).toEqual([]);
  });

  it('maps each variable to the param serverless.yml actually sets it from', () => {
    const rows = [...runbook.matchAll(/^\s*\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*`([A-Za-z]+)`\s*\|\s*$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(rows.length).toBeGreaterThan(5);
    const environments = [serverless.provider.environment, ...Object.values(serverless.functions).map((f) => f.environment ?? {})];
    const wrong = rows.filter(([variable, param]) => !environments.some((environment) => environment[variable] === `\${param:${param}}`));
    expect(wrong).toEqual([]);
  });

  it('names only functions and resources that serverless.yml declares', () => {
    expect(stageNames.length).toBeGreaterThan(10);
    expect(stageNames.filter((name) => !functionNames.includes(name) && !namedResources.includes(name))).toEqual([]);
  });

  it('covers every alarm serverless.yml declares', () => {
    expect(alarmNames.length).toBeGreaterThan(3);
    expect(alarmNames.filter((alarm) => !stageNames.includes(alarm))).toEqual([]);
  });

  it('gives every function a row in its function table', () => {
    const table = section('Service Overview');
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    const covered = (name: string) =>
      rows.some((row) => all(row.split('|')[1] ?? '', /`([^`]+)`/g).some((cell) => (cell.endsWith('*') ? name.startsWith(cell.slice(0, -1)) : cell === name)));
    expect(functionNames.filter((name) => !covered(name))).toEqual([]);
  });

  it('names only secrets and params that serverless.yml declares', () => {
    const secrets = Object.values(params)
      .filter((value): value is string => typeof value === 'string' && value.startsWith('iam-service/${sls:stage}/'))
      .map((value) => value.slice('iam-service/${sls:stage}/'.length));
    expect(secretNames.length).toBe(secrets.length);
    expect(secretNames.filter((name) => !secrets.includes(name))).toEqual([]);
    const named = unique(all(runbook, /--param="?([A-Za-z]+)=/g));
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((param) => !(param in params))).toEqual([]);
  });

  it('quotes only camelCase names that are a function, a param or a field the code writes', () => {
    const quoted = unique(all(runbook, /`([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)`/g));
    expect(quoted.length).toBeGreaterThan(10);
    const known = (name: string) => functionNames.includes(name) || name in params || new RegExp(`\\b${name}\\b`).test(code);
    expect(quoted.filter((name) => !known(name))).toEqual([]);
  });

  it('queries only tables and columns the migrations create', () => {
    const sql = [...blocks('sql'), ...all(runbook, /`((?:SELECT|UPDATE|DELETE) [^`]+)`/g)].join('\n');
    const used = unique(all(sql, /\b(?:FROM|JOIN|UPDATE|INTO)\s+([a-z_][a-z0-9_]*)\b/g));
    expect(used.length).toBeGreaterThan(2);
    expect(used.filter((table) => !tables.includes(table) && !table.startsWith('pg_'))).toEqual([]);
    const aliases = all(sql, /\bAS\s+([a-z_][a-z0-9_]*)/g);
    // PostgreSQL's own: pg_stat_activity's columns and built-in functions.
    const builtIn = ['application_name', 'wait_event_type', 'wait_event', 'query_start', 'split_part', 'convert_from'];
    const identifiers = unique(all(sql.replace(/--.*$/gm, '').replace(/'[^']*'/g, "''"), /\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b/g)).filter(
      (name) => !aliases.includes(name) && !builtIn.includes(name) && !name.startsWith('pg_'),
    );
    expect(identifiers.filter((name) => !new RegExp(`\\b${name}\\b`).test(migrations))).toEqual([]);
  });

  it('names only problem codes the code raises', () => {
    const codes = unique([
      ...all(runbook, /\b[45]\d\d (?:problem )?`([a-z]+(?:-[a-z]+)+)`/g),
      ...all(runbook, /urn:citadel:iam:problem:([a-z-]+)/g),
    ]);
    expect(codes.length).toBeGreaterThan(1);
    expect(codes.filter((problem) => !code.includes(`'${problem}'`))).toEqual([]);
  });

  it('links only to its own headings', () => {
    const links = unique(all(runbook, /\]\(#([^)]+)\)/g));
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((link) => !anchors.includes(link))).toEqual([]);
  });

  it('lists for each IdP health check exactly the reasons the checks give', () => {
    const checks = read('lib/adapters/oidc/idp-checks.ts');
    // The strings a CheckFailed is made with (not those it is compared with: `=== 'TimeoutError'`).
    const literals = (text: string) => all(text.replace(/===\s*'[^']*'/g, ''), /(['`])((?:(?!\1)[^\\])*)\1/g, 2).map((literal) => literal.replace(/\$\{[^}]+\}/g, '<status>'));
    const given = unique([
      ...all(checks, /new CheckFailed\(([^;]*)\)/g).flatMap(literals),
      // Anything a check throws that is not a CheckFailed (the rauth secret unreadable, …).
      ...all(read('lib/health/idp-health.ts'), /instanceof CheckFailed \? error\.message : '([^']+)'/g),
    ]);
    const table = runbook
      .split('\n')
      .filter((row) => /^\s*\| `(discovery|jwks|token|registration)`/.test(row))
      .map((row) => row.trim().split(' | ')[1] ?? '');
    const listed = unique(table.flatMap((cell) => all(cell, /`([^`]+)`/g)));
    expect(given).toEqual(expect.arrayContaining(['discovery failed', 'timeout', 'unreachable', 'HTTP <status>', 'credentials refused']));
    expect({ unlisted: given.filter((reason) => !listed.includes(reason)), notGiven: listed.filter((reason) => !given.includes(reason)) }).toEqual({ unlisted: [], notGiven: [] });
  });

  it('has checks that reject what the code does not have', () => {
    expect(isLogged('database operation failed')).toBe(true);
    expect(isLogged('failed to update client in upstream IdP')).toBe(true);
    expect(isLogged('failed to <operation> client in upstream IdP')).toBe(true);
    expect(isLogged('database operation failed!')).toBe(false);
    expect(isLogged('failed to <operation> client in the IdP')).toBe(false);
    expect(configVariables).toContain('DATABASE_SECRET_ID');
    expect(configVariables).not.toContain('RAUTH_ADMIN_TOKEN');
    expect(functionNames).toContain('clientReconcile');
    expect(namedResources).toContain('database-errors');
  });
});
