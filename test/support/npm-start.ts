/**
 * `npm start` as a user runs it (local/start.ts in a process of its own), on a state directory
 * of the test's, with every port it would take by default moved to one that is free.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StackInfo } from '../../local/stack.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface StartedStack {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** `.local/stack.json` as this start wrote it. */
  stack: StackInfo;
  /** Ctrl-C; true when it exited as a program stopped by SIGINT does (0 or 130). */
  stop(): Promise<boolean>;
}

/** Starts it with `env` over a bare environment (PATH and HOME only), and waits until it serves. */
export async function npmStart(stateDir: string, env: Record<string, string>): Promise<StartedStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: '0', FUNCTION_URL_PORT: '0', DEV_IDP_PORT: '0', ...env, IAM_LOCAL_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 60_000);
    child.stdout!.on('data', () => output.includes('iam-service is running') && (clearTimeout(timer), resolve()));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`npm start exited ${code}:\n${output}`))));
  });
  const stack = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as StackInfo;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    return [0, 130].includes((await exited) ?? -1);
  };
  return { child, output: () => output, stack, stop };
}

/** The JSON log lines it printed whose `msg` is `message`. */
export function logLines(output: string, message: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(JSON.stringify(message)))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === message);
}
