/**
 * A real nginx (Debian's package) for tests: one process (`daemon off; master_process off`) on a
 * free loopback port, every file it writes (pid, logs, temp files) in a temporary directory, so it
 * needs no root-owned path and no system service. The caller writes the `server` block's inside;
 * `stop()` ends this process, by its PID, and deletes the directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface Nginx {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** What nginx wrote to its error log so far (auth_request failures are logged there). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
export function nginxBinary(): string {
  try {
    return execFileSync('which', ['nginx'], { encoding: 'utf8' }).trim();
  } catch {
    if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
    throw new Error('nginx is not installed: npm run test:setup installs it (as root), or sudo apt-get install -y nginx');
  }
}

/** Starts nginx with `server { listen 127.0.0.1:<port>; <server> }`; `server` gets the directory for its own files. */
export async function startNginx(options: { server: (dir: string) => string }): Promise<Nginx> {
  const binary = nginxBinary();
  const dir = await mkdtemp(join(tmpdir(), 'iam-nginx-'));
  const port = await freePort();
  const at = (name: string) => JSON.stringify(join(dir, name));
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${at('nginx.pid')};
error_log ${at('error.log')} info;
events { worker_connections 64; }
http {
  access_log ${at('access.log')};
  client_body_temp_path ${at('client_body')};
  proxy_temp_path ${at('proxy')};
  fastcgi_temp_path ${at('fastcgi')};
  uwsgi_temp_path ${at('uwsgi')};
  scgi_temp_path ${at('scgi')};
  server {
    listen 127.0.0.1:${port};
${options.server(dir)}
  }
}
`,
  );
  // -e: the error log before the configuration is read (else the compiled-in /var/log/nginx/error.log).
  const proc = spawn(binary, ['-p', `${dir}/`, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  proc.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  const errorLog = () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  const stop = async () => {
    await exit(proc);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, proc, async () => `${output}\n${await errorLog()}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid!, errorLog, stop };
}

async function exit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid!, 'SIGQUIT'); // graceful: finish what is in flight
  const timer = setTimeout(() => process.kill(proc.pid!, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitForPort(port: number, proc: ChildProcess, output: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nginx exited during start (code ${proc.exitCode}):\n${await output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port} within 10 s:\n${await output()}`);
}

