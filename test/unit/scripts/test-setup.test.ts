/**
 * scripts/test-setup.sh, run for real by bash in a sandbox: PATH holds only a few tools and
 * stand-ins (`id` answering a chosen uid, an `apt-get` that records its calls and "installs" by
 * writing stubs into the sbin directory, as Debian's packages do), and IAM_TEST_SBIN points at a
 * temporary directory. The machine's apt-get, nginx and nats-server are out of reach.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';

const script = new URL('../../../scripts/test-setup.sh', import.meta.url).pathname;

let dir: string;
let bin: string;
let sbin: string;
let log: string;

const executable = (path: string, body: string) => {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iam-test-setup-'));
  [bin, sbin] = [join(dir, 'bin'), join(dir, 'sbin')];
  log = join(dir, 'apt-get.log');
  mkdirSync(bin);
  mkdirSync(sbin);
  for (const tool of ['rm', 'chmod']) symlinkSync(`/bin/${tool}`, join(bin, tool));
  // Records each call; `install` notes what policy-rc.d answers at that moment, then puts a stub
  // of each package's binary where Debian does.
  executable(
    join(bin, 'apt-get'),
    `echo "$*" >>"${log}"
[ "$1" = install ] || exit 0
if [ -x "${sbin}/policy-rc.d" ]; then "${sbin}/policy-rc.d"; echo "policy-rc.d answers $?" >>"${log}"; fi
for arg in "$@"; do case "$arg" in -*|install) ;; *) printf '#!/bin/sh\\n' >"${sbin}/$arg"; chmod 755 "${sbin}/$arg";; esac; done`,
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(options: { uid: number; env?: Record<string, string> }) {
  executable(join(bin, 'id'), `echo ${options.uid}`);
  const started = performance.now();
  const result = spawnSync('/bin/bash', [script], {
    env: { PATH: bin, IAM_TEST_SBIN: sbin, ...options.env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms: performance.now() - started, calls };
}

describe('scripts/test-setup.sh', () => {
  it('exits 0 without a word when nginx and nats-server are on PATH', () => {
    executable(join(bin, 'nginx'), '');
    executable(join(bin, 'nats-server'), '');
    const run = setup({ uid: 1000 });
    expect(run).toMatchObject({ code: 0, stdout: '', stderr: '', calls: [] });
    expect(run.ms).toBeLessThan(1_000);
  });

  it('finds them in the sbin directory when PATH lacks it, as Debian installs them', () => {
    executable(join(sbin, 'nginx'), '');
    executable(join(sbin, 'nats-server'), '');
    expect(setup({ uid: 1000 })).toMatchObject({ code: 0, stdout: '', stderr: '', calls: [] });
  });

  it('stops at once without root, printing the exact command to run', () => {
    const run = setup({ uid: 1000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('npm test needs nginx and nats-server');
    expect(run.stderr).toContain('Not root: not installing.');
    expect(run.stderr).toContain('\n  sudo apt-get update && sudo apt-get install -y nginx nats-server\n');
    expect(run.calls).toEqual([]);
    expect(run.ms).toBeLessThan(1_000);
  });

  it('only checks with IAM_TEST_NO_INSTALL=1, naming just what is missing', () => {
    executable(join(bin, 'nginx'), '');
    const run = setup({ uid: 0, env: { IAM_TEST_NO_INSTALL: '1' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('npm test needs nats-server');
    expect(run.stderr).toContain('\n  apt-get update && apt-get install -y nats-server\n');
    expect(run.calls).toEqual([]);
  });

  it('as root, updates the package lists and installs what is missing with service starts forbidden', () => {
    const run = setup({ uid: 0 });
    expect(run.code).toBe(0);
    expect(run.calls).toEqual(['update -qq', 'install -y -qq nginx nats-server', 'policy-rc.d answers 101']);
    expect(existsSync(join(sbin, 'policy-rc.d'))).toBe(false);
    expect(run.stderr).toContain('installed nginx nats-server');
    // Another run finds them and costs nothing.
    expect(setup({ uid: 0 })).toMatchObject({ code: 0, stderr: '', calls: run.calls });
  });

  it("keeps a policy-rc.d the machine already had", () => {
    executable(join(sbin, 'policy-rc.d'), 'exit 0');
    const run = setup({ uid: 0 });
    expect(run.code).toBe(0);
    expect(run.calls).toContain('policy-rc.d answers 0');
    expect(readFileSync(join(sbin, 'policy-rc.d'), 'utf8')).toBe('#!/bin/sh\nexit 0\n');
  });

  it('fails, naming them, when apt-get ends without installing them', () => {
    executable(join(bin, 'apt-get'), 'exit 0');
    const run = setup({ uid: 0 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('still not found');
  });
});
