/**
 * The README is true by test: its walkthroughs' shell lines — the enrich-token calls, the admin
 * API, the OAuth clients, and any dialect examples — run as written, in README order, in one
 * bash, against a real `npm start`, and each answer has the status and the shape its `# …`
 * comment shows (test/support/readme-shell.ts says how a comment reads).
 *
 * The lines run as from the checkout: in a directory that links to every file of this one but
 * has its own `.local`, this start's state directory (named by IAM_LOCAL_DIR too, for the npm
 * scripts, which resolve their default `.local` through the links). They read every URL and key
 * from `.local/stack.json`; a line that names npm start's default address instead
 * (http://127.0.0.1:3000, :3001 for the Function URL, :4100 for the dev IdP) gets this start's,
 * since the test cannot take those ports.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { npmStart, REPO_ROOT, type StartedStack } from '../support/npm-start.js';
import { freePort } from '../support/free-port.js';
import { type Command, expectation, mismatch, shellBlocks } from '../support/readme-shell.js';

const SECTIONS = ['Two commands', 'Gateways and IdPs', 'Admin API', 'OAuth clients'] as const;
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

interface Ran {
  command: Command;
  exitCode: number;
  stdout: string;
  statuses: number[];
  stderr: string;
}

/**
 * One bash for all the lines (a walkthrough continues the one before: `$API`, `$H`, …), with
 * markers after each command to tell their output apart, and curl wrapped to report each
 * answer's status on stderr (its own output unchanged).
 */
async function runInBash(commands: Command[], cwd: string, env: Record<string, string>, rewrite: (text: string) => string): Promise<Ran[]> {
  const script = [
    `curl() { command curl -w '%{stderr}\\n@@status %{http_code}\\n' "$@"; }`,
    ...commands.map((command, i) => `${rewrite(command.text)}\n__rc=$?; printf '\\n@@end ${i} %s\\n' "$__rc"; printf '\\n@@end ${i}\\n' >&2`),
  ].join('\n');
  const child = spawn('bash', ['-c', script], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bash exited ${code}:\n${stderr}`);
  const outs = stdout.split(/\n@@end \d+ \d+\n/);
  const codes = [...stdout.matchAll(/\n@@end \d+ (\d+)\n/g)].map((m) => Number(m[1]));
  const errs = stderr.split(/\n@@end \d+\n/);
  return commands.map((command, i) => {
    const err = errs[i] ?? '';
    return {
      command,
      exitCode: codes[i] ?? -1,
      stdout: (outs[i] ?? '').trim(),
      statuses: [...err.matchAll(/^@@status (\d+)$/gm)].map((m) => Number(m[1])),
      stderr: err.replace(/^@@status \d+$/gm, '').trim(),
    };
  });
}

/** What went wrong with one command, or undefined. */
function verdict({ command, exitCode, stdout, statuses, stderr }: Ran): string | undefined {
  if (exitCode !== 0) return `exit code ${exitCode}; stderr: ${stderr}`;
  const ok = (status: number) => status >= 200 && status < 300;
  const { status, shape } = command.expect;
  const last = statuses.at(-1);
  if (statuses.slice(0, status === undefined ? statuses.length : -1).some((s) => !ok(s))) return `answered ${statuses.join(', ')}; body: ${stdout}`;
  if (status !== undefined && last !== status) return `answered ${last}, the README shows ${status}; body: ${stdout}`;
  if (shape === undefined) return undefined;
  // The answer is the output from its first line that opens JSON (an npm script prints a banner first).
  const json = stdout.slice(Math.max(0, stdout.search(/^[{[]/m)));
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    return `the README shows a JSON answer, it printed: ${stdout || '(nothing)'}; stderr: ${stderr}`;
  }
  const wrong = mismatch(body, shape);
  return wrong && `${wrong}; body: ${stdout}`;
}

describe('the README walkthrough', () => {
  const blocks = shellBlocks(README, SECTIONS);
  const commands = blocks.flatMap((block) => block.commands);

  it('has walkthrough lines in each section it names', () => {
    const sections = new Set(blocks.map((block) => block.section.split(':')[0]));
    for (const section of ['Two commands', 'Admin API', 'OAuth clients (R-Auth)']) expect(sections).toContain(section);
    expect(commands.length).toBeGreaterThanOrEqual(25);
  });

  it('reads the answers its comments show', () => {
    expect(expectation('401 {"error":"invalid_client",…}')).toEqual({ status: 401, shape: { error: 'invalid_client', '\u0000more': true } });
    expect(expectation('204')).toEqual({ status: 204 });
    expect(expectation('the same claims. 403 {"a":1}')).toEqual({});
    const shape = expectation('{"id":"…","token":"eyJ…","tenant":{…,"slug":"acme"},"items":[{"n":1}, …],"next":…} and prose').shape;
    expect(mismatch({ id: 7, token: 'eyJabc', tenant: { id: 'x', slug: 'acme' }, items: [{ n: 0 }, { n: 1 }, { n: 2 }], next: null }, shape)).toBeUndefined();
    for (const wrong of [
      { id: 7, token: 'abc', tenant: { slug: 'acme' }, items: [{ n: 1 }], next: null }, // token prefix
      { id: 7, token: 'eyJ', tenant: { slug: 'globex' }, items: [{ n: 1 }], next: null }, // fixed value
      { id: 7, token: 'eyJ', tenant: { slug: 'acme' }, items: [{ n: 2 }], next: null }, // element missing
      { id: 7, token: 'eyJ', tenant: { slug: 'acme' }, items: [{ n: 1 }] }, // key missing
      { id: 7, token: 'eyJ', tenant: { slug: 'acme' }, items: [{ n: 1 }], next: null, extra: 1 }, // key not shown, no …
      { id: 7, token: 'eyJ', tenant: { slug: 'acme' }, items: [{ n: 1, m: 2 }], next: null }, // nested key not shown
    ]) {
      expect(mismatch(wrong, shape)).toEqual(expect.any(String));
    }
    expect(mismatch(['a', 'b'], ['a'])).toEqual(expect.any(String));
  });

  describe('run as written against npm start', () => {
    const home = mkdtempSync(join(tmpdir(), 'iam-readme-'));
    const stateDir = join(home, '.local');
    let started: StartedStack | undefined;
    let ran: Ran[] = [];
    beforeAll(async () => {
      for (const entry of readdirSync(REPO_ROOT)) if (!['.local', '.git'].includes(entry)) symlinkSync(join(REPO_ROOT, entry), join(home, entry));
      started = await npmStart(stateDir, { EMBEDDED_PG_PORT: String(await freePort()) });
      const { api_url, enrich_iam_url, idp } = started.stack;
      const defaults: Array<[string, string]> = [
        ['http://127.0.0.1:3000', api_url],
        ['http://127.0.0.1:3001', new URL(enrich_iam_url).origin],
        ['http://127.0.0.1:4100', idp.issuer],
      ];
      ran = await runInBash(commands, home, { IAM_LOCAL_DIR: stateDir }, (text) => defaults.reduce((t, [from, to]) => t.replaceAll(from, to), text));
      const lines = commands.reduce((sum, command) => sum + command.lines, 0);
      const checked = commands.filter((command) => command.expect.shape !== undefined || command.expect.status !== undefined).length;
      process.stderr.write(`README walkthrough: ${commands.length} commands (${lines} README lines) in ${blocks.length} blocks, ${checked} with a shown answer checked\n`);
    }, 120_000);
    afterAll(async () => {
      await started?.stop();
      rmSync(home, { recursive: true, force: true });
    });

    it('answers every line as the README shows', () => {
      const failures = ran
        .map((result) => ({ result, wrong: verdict(result) }))
        .filter(({ wrong }) => wrong !== undefined)
        .map(({ result, wrong }) => `README.md:${result.command.line}: ${result.command.text.split('\n')[0]}\n  ${wrong}`);
      expect(failures).toEqual([]);
      expect(ran).toHaveLength(commands.length);
    });
  });
});
