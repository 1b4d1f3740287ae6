/**
 * `npm run cold-start`: what a cold start costs, per function, from the artifacts we deploy.
 * Packages the service (`serverless package`, offline), then for each function reports the zip
 * and bundle sizes and the median (and p90) module-initialization time — importing the bundled
 * handler in a fresh Node process, as Lambda's init phase does — over COLD_START_RUNS (20)
 * processes. Imports open no connection (pools connect lazily), so no server is needed.
 * COLD_START_FUNCTIONS=enrich-token,forward-auth measures only those (names as in the table).
 * The Secrets Manager SDK is loaded on a function's first secret read, not by its init
 * (lib/adapters/aws/secrets-manager.ts): a last line gives what that import costs, measured the
 * same way (the runtime's copy, from a function's directory), so neither figure hides it.
 * The table goes to stdout; a line per step (packaging, each function measured) to stderr as it
 * happens, so `npm run cold-start > result.txt` keeps only the table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readZip } from './zip.js';

const RUNS = Number(process.env.COLD_START_RUNS ?? 20);
const ONLY = process.env.COLD_START_FUNCTIONS?.split(',').map((name) => name.trim()).filter(Boolean);
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'iam-cold-start-'));

interface LambdaResource {
  Type: string;
  Properties: { Handler?: string; Code?: { S3Key: string }; Environment?: { Variables?: Record<string, string> } };
}

const offline = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
// Configuration a function needs to finish its init, as deployed: secrets named (read on first
// use, not at init); nothing listens on these addresses.
const initEnv = {
  PATH: process.env.PATH ?? '',
  DATABASE_URL: 'postgres://127.0.0.1:1/iam',
  DATABASE_SECRET_ID: 'iam-service/coldstart/database',
  ENRICH_API_KEYS_SECRET_ID: 'iam-service/coldstart/enrich-api-keys',
  RAUTH_SECRET_ID: 'iam-service/coldstart/rauth',
  NATS_SECRET_ID: 'iam-service/coldstart/nats',
  CLIENT_TOKEN_KEYS_SECRET_ID: 'iam-service/coldstart/client-token-keys',
  RAUTH_URL: 'http://127.0.0.1:1',
  RAUTH_ADMIN_API_URL: 'http://127.0.0.1:1/admin',
  NATS_URL: 'ws://127.0.0.1:1',
  AWS_REGION: 'eu-west-1',
  LOG_LEVEL: 'error',
};

/** How long importing `specifier` takes in RUNS fresh Node processes started in `dir`, sorted. */
function importTimes(dir: string, specifier: string, what: string, env: Record<string, string> = {}): number[] {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const result = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`],
      { cwd: dir, env: { ...initEnv, ...env }, encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`${what}: init failed: ${result.stderr.slice(-600)}`);
    times.push(Number(result.stdout));
  }
  return times.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const started = performance.now();
const seconds = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;
/** A step, on stderr, with the time since the start. */
const progress = (line: string) => process.stderr.write(`[${seconds(started).padStart(7)}] ${line}\n`);
/** The name the table shows: functions/enrich-token.handler → enrich-token. */
const functionName = (handler: string) => handler.replace(/^functions\/|\.handler$/g, '');

try {
  const packageDir = path.join(work, 'package');
  const packaging = performance.now();
  progress(`packaging the service (serverless package --stage coldstart, offline) into ${packageDir} …`);
  execFileSync(process.execPath, [path.join(root, 'node_modules/.bin/serverless'), 'package', '--stage', 'coldstart', '--package', packageDir], {
    cwd: root,
    env: { ...offline, CI: 'true' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const template = JSON.parse(readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, LambdaResource>;
  };
  const packaged = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const unknown = ONLY?.filter((name) => !packaged.some((r) => functionName(r.Properties.Handler!) === name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(`COLD_START_FUNCTIONS: no function ${unknown.join(', ')} in the package (it has ${packaged.map((r) => functionName(r.Properties.Handler!)).join(', ')})`);
  }
  // The admin functions share two bundles (functions/admin-api.ts, client-api.ts; each serves the
  // operation its ADMIN_OPERATION names): one row per bundle.
  const functions = packaged
    .filter((r) => !ONLY || ONLY.includes(functionName(r.Properties.Handler!)))
    .filter((r, index, all) => all.findIndex((other) => other.Properties.Handler === r.Properties.Handler) === index);
  progress(`packaged ${packaged.length} functions (${seconds(packaging)}); measuring ${functions.length}, ${RUNS} fresh Node processes each`);
  const rows: string[][] = [];
  let sdkDir: string | undefined;
  for (const [index, fn] of functions.entries()) {
    const handler = fn.Properties.Handler!;
    const measuring = performance.now();
    const zipPath = path.join(packageDir, path.basename(fn.Properties.Code!.S3Key));
    const zip = readFileSync(zipPath);
    const dir = path.join(work, path.basename(zipPath, '.zip'));
    let bundleBytes = 0;
    for (const entry of readZip(zip)) {
      const target = path.join(dir, entry.name);
      mkdirSync(path.dirname(target), { recursive: true });
      const content = entry.content();
      writeFileSync(target, content);
      if (entry.name.endsWith('.mjs')) bundleBytes += content.length;
    }
    // The nodejs22.x runtime provides AWS SDK v3 on its module path; ours stands in for it.
    mkdirSync(path.join(dir, 'node_modules', '@aws-sdk'), { recursive: true });
    symlinkSync(path.join(root, 'node_modules/@aws-sdk/client-secrets-manager'), path.join(dir, 'node_modules/@aws-sdk/client-secrets-manager'));
    sdkDir ??= dir;
    const operation = fn.Properties.Environment?.Variables?.ADMIN_OPERATION;
    const times = importTimes(dir, `./${handler.replace(/\.\w+$/, '.mjs')}`, handler, operation ? { ADMIN_OPERATION: operation } : {});
    const row = [functionName(handler), (zip.length / 1024).toFixed(0), (bundleBytes / 1024).toFixed(0), percentile(times, 50).toFixed(1), percentile(times, 90).toFixed(1)];
    rows.push(row);
    progress(`[${index + 1}/${functions.length}] ${row[0]}: zip ${row[1]} KB, bundle ${row[2]} KB, init p50 ${row[3]} ms, p90 ${row[4]} ms (${seconds(measuring)})`);
  }
  rows.sort((a, b) => a[0]!.localeCompare(b[0]!));
  const header = ['function', 'zip KB', 'bundle KB', `init p50 ms`, `init p90 ms`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const sdk = sdkDir ? importTimes(sdkDir, '@aws-sdk/client-secrets-manager', 'the Secrets Manager SDK') : undefined;
  progress('done');
  console.log(`module initialization over ${RUNS} fresh Node ${process.version} processes per function`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  if (sdk) {
    console.log(`first secret read with SECRETS_SOURCE=secrets-manager adds the SDK import: p50 ${percentile(sdk, 50).toFixed(1)} ms, p90 ${percentile(sdk, 90).toFixed(1)} ms`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
