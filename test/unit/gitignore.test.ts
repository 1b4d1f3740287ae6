/**
 * Files the docs' shell lines write in the checkout (`… > file`, `aws lambda invoke … file`) are
 * git-ignored, so following the README or the runbook never leaves a change to commit.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Shell lines of the ```sh blocks, continuation lines joined. */
function shellLines(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.replace(/\\\n\s*/g, ' ').split('\n'));
}

/** Relative paths a line writes: redirections and `aws lambda invoke`'s outfile. */
function written(line: string): string[] {
  const command = line.replace(/(^|\s)#.*$/, ''); // a trailing comment
  // A redirection stands after a space (`<account>:key` and `2>&1` are not one) and names a
  // path, not /dev/null, ~ or a variable.
  const redirected = [...command.matchAll(/(?:^|\s)>>?\s*([\w.][^\s;&|)'"]*)/g)].map((m) => m[1]!);
  const invoked = [...command.matchAll(/aws lambda invoke\b[^&|;]*?\s([^\s-][^\s&|;]*)\s*(?:&&|\||;|$)/g)].map((m) => m[1]!);
  return [...redirected, ...invoked];
}

const files = ['README.md', 'RUNBOOK.md'].flatMap((doc) => shellLines(doc).flatMap(written).map((file) => ({ doc, file })));

describe('.gitignore', () => {
  it('covers every file the README and the runbook write in the checkout', () => {
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['probe.json', 'enrich.json']));
    const check = spawnSync('git', ['check-ignore', '--no-index', '--verbose', '--non-matching', '--', ...files.map((f) => f.file)], { cwd: root, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.stdout.trim().split('\n')).toHaveLength(files.length);
    const notIgnored = check.stdout.split('\n').filter((line) => line.startsWith('::')).map((line) => line.replace(/^::\s*/, ''));
    expect(files.filter((f) => notIgnored.includes(f.file)).map((f) => `${f.doc}: ${f.file}`)).toEqual([]);
  });
});
