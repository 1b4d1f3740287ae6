/**
 * `npm run cold-start` itself, spawned (packages offline, then measures): it tells what it is
 * doing as it goes, on stderr, and its table on stdout stays a table. Two functions, two runs
 * each, to keep it short; packaging is most of the time.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

const root = new URL('../..', import.meta.url).pathname;

describe('npm run cold-start', () => {
  it('prints a line per step on stderr as it goes, and only the table on stdout', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    const child = spawn('npm', ['run', '--silent', 'cold-start'], {
      cwd: root,
      env: { ...env, NODE_OPTIONS: '', COLD_START_RUNS: '2', COLD_START_FUNCTIONS: 'forward-auth,enrich-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = performance.now();
    let stdout = '';
    const progress: Array<{ line: string; at: number }> = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (/^\[\s*\d+\.\d s\] /.test(line)) progress.push({ line, at: performance.now() - started });
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const ended = performance.now() - started;

    expect(code).toBe(0);
    const lines = progress.map((p) => p.line.replace(/^\[\s*\d+\.\d s\] /, ''));
    expect(lines).toEqual([
      expect.stringMatching(/^packaging the service \(serverless package --stage coldstart, offline\) into .+ …$/),
      expect.stringMatching(/^packaged \d+ functions \(\d+\.\d s\); measuring 2, 2 fresh Node processes each$/),
      expect.stringMatching(/^\[1\/2\] (enrich-token|forward-auth): zip \d+ KB, bundle \d+ KB, init p50 \d+\.\d ms, p90 \d+\.\d ms \(\d+\.\d s\)$/),
      expect.stringMatching(/^\[2\/2\] (enrich-token|forward-auth): zip \d+ KB, bundle \d+ KB, init p50 \d+\.\d ms, p90 \d+\.\d ms \(\d+\.\d s\)$/),
      'done',
    ]);
    // The first line comes before packaging, not at the end.
    expect(progress[0]!.at).toBeLessThan(ended - 2_000);

    const table = stdout.trim().split('\n');
    expect(table).toHaveLength(5);
    expect(table[0]).toBe(`module initialization over 2 fresh Node ${process.version} processes per function`);
    expect(table[1]).toMatch(/^function\s+zip KB\s+bundle KB\s+init p50 ms\s+init p90 ms$/);
    expect(table[2]).toMatch(/^enrich-token\s+\d+\s+\d+\s+\d+\.\d\s+\d+\.\d$/);
    expect(table[3]).toMatch(/^forward-auth\s+\d+\s+\d+\s+\d+\.\d\s+\d+\.\d$/);
    // The SDK is imported by the first secret read, not by init: its cost is stated apart.
    expect(table[4]).toMatch(/^first secret read with SECRETS_SOURCE=secrets-manager adds the SDK import: p50 \d+\.\d ms, p90 \d+\.\d ms$/);
  }, 120_000);
});
