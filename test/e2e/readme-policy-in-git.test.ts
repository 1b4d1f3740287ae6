/**
 * The README's "Policy in Git" walkthrough, run as written against a real `npm start` with no
 * flags: its `sh` lines in order (each in bash, from a directory that links to every file of the
 * checkout but has its own `.local`), and its `diff` block applied with patch(1) as the edit.
 * A `# exit N` comment on a command is its exit code (else 0); the `#` lines under it are its
 * stdout, line for line, or, when they open JSON, the answer's shape (test/support/readme-shell.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { npmStart, REPO_ROOT, type StartedStack } from '../support/npm-start.js';
import { freePort } from '../support/free-port.js';
import { expectation, mismatch } from '../support/readme-shell.js';

type Step =
  | { kind: 'sh'; line: number; text: string; exit: number; output: string[] }
  | { kind: 'diff'; line: number; file: string; text: string };

/** The section's fenced sh and diff blocks as steps, in README order. */
function walkthrough(markdown: string, title: string): Step[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${title}`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  const steps: Step[] = [];
  for (let i = start; i < end; i++) {
    const fence = /^```(sh|diff)$/.exec(lines[i]!);
    if (!fence) continue;
    const first = i + 1;
    while (lines[++i] !== '```');
    const body = lines.slice(first, i);
    if (fence[1] === 'diff') {
      steps.push({ kind: 'diff', line: first + 1, file: /^\+\+\+ (\S+)/m.exec(body.join('\n'))![1]!, text: `${body.join('\n')}\n` });
      continue;
    }
    for (let j = 0; j < body.length; j++) {
      let text = body[j]!;
      const line = first + j + 1;
      while (text.endsWith('\\')) text += `\n${body[++j]}`;
      const exit = /\s#\s*exit (\d+)\s*$/.exec(text);
      const step = { kind: 'sh' as const, line, text: exit ? text.slice(0, exit.index) : text, exit: exit ? Number(exit[1]) : 0, output: [] as string[] };
      while (body[j + 1]?.startsWith('#')) step.output.push(body[++j]!.replace(/^# ?/, ''));
      steps.push(step);
    }
  }
  return steps;
}

describe('the README "Policy in Git" walkthrough', () => {
  const steps = walkthrough(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), 'Policy in Git');
  const home = mkdtempSync(join(tmpdir(), 'iam-policy-readme-'));
  const stateDir = join(home, '.local');
  let started: StartedStack | undefined;

  beforeAll(async () => {
    for (const entry of readdirSync(REPO_ROOT)) if (!['.local', '.git'].includes(entry)) symlinkSync(join(REPO_ROOT, entry), join(home, entry));
    started = await npmStart(stateDir, { EMBEDDED_PG_PORT: String(await freePort()) });
  }, 120_000);
  afterAll(async () => {
    await started?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('has the export, the edit, plan, apply, the enrich-token call and the second apply', () => {
    expect(steps.map((s) => (s.kind === 'diff' ? 'diff' : s.text.split(' -- ')[1]?.split(' ')[0] ?? s.text.split(' ')[0]))).toEqual(['export', 'plan', 'diff', 'plan', 'apply', 'curl', 'apply']);
  });

  it('answers every step as the README shows, with no flags', () => {
    const failures: string[] = [];
    for (const step of steps) {
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', IAM_LOCAL_DIR: stateDir };
      const run =
        step.kind === 'diff'
          ? spawnSync('patch', ['--no-backup-if-mismatch', step.file], { cwd: home, env, input: step.text, encoding: 'utf8' })
          : spawnSync('bash', ['-c', step.text], { cwd: home, env, encoding: 'utf8', timeout: 60_000 });
      const where = `README.md:${step.line}: ${step.kind === 'diff' ? `the edit of ${step.file}` : step.text.split('\n')[0]}`;
      const expectedExit = step.kind === 'sh' ? step.exit : 0;
      if (run.status !== expectedExit) {
        failures.push(`${where}\n  exit ${run.status}, the README shows ${expectedExit}; stdout: ${run.stdout} stderr: ${run.stderr}`);
        continue;
      }
      if (step.kind === 'diff' || step.output.length === 0) continue;
      const shown = step.output.join('\n');
      const wrong = shown.startsWith('{') ? mismatch(JSON.parse(run.stdout), expectation(shown).shape) : run.stdout.trimEnd() === shown ? undefined : `printed:\n${run.stdout}`;
      if (wrong) failures.push(`${where}\n  ${wrong}`);
    }
    expect(failures).toEqual([]);
    // The export is a policy file, its first line naming the schema.
    expect(readFileSync(join(home, 'policy.yaml'), 'utf8').split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\S+policy-file\.schema\.json$/);
  });
});
