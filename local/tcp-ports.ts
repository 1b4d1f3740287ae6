/**
 * The ports `npm start` listens on, each with the variable that moves it, checked before anything
 * starts so that a taken port is named (and its variable) instead of failing half-way.
 */
import { type AddressInfo, createServer, type Server } from 'node:net';
import { LocalStartError, PortInUseError } from './start-errors.js';

export interface PortNeed {
  /** 0: any free port (never taken). */
  port: number;
  /** The environment variable that sets it, e.g. `EMBEDDED_PG_PORT`. */
  variable: string;
  /** What listens there, e.g. `embedded PostgreSQL`. */
  what: string;
}

/** Throws the first need whose port is taken (or named twice); binds and releases each one. */
export async function assertPortsFree(needs: readonly PortNeed[]): Promise<void> {
  const fixed = needs.filter((need) => need.port !== 0);
  for (const [index, need] of fixed.entries()) {
    const twice = fixed.slice(index + 1).find((other) => other.port === need.port);
    if (twice) throw new LocalStartError(`${need.variable} and ${twice.variable} are both ${need.port}: give each its own port`);
  }
  for (const need of fixed) {
    const probe = createServer();
    await listen(probe, need);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

/** `server.listen` on loopback, with a taken or privileged port explained. */
export function listen(server: Server, need: PortNeed): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(explainListenError(error, need));
    server.once('error', failed);
    server.listen(need.port, '127.0.0.1', () => {
      server.off('error', failed);
      resolve();
    });
  });
}

export function explainListenError(error: unknown, need: PortNeed): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new PortInUseError(need.port, need.variable, need.what);
  if (code === 'EACCES') return new LocalStartError(`port ${need.port} (${need.what}) needs privileges: set ${need.variable} to a port above 1023`);
  if (code === 'ERR_SOCKET_BAD_PORT') return new LocalStartError(`${need.variable} must be a port number (0-65535), not ${need.port}`);
  return error;
}

/** A port free on 127.0.0.1 right now (for a server npm start runs on "any free port"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
