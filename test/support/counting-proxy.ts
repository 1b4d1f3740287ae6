/**
 * A counting reverse proxy in front of the dev IdP, speaking real HTTP: every request that
 * reaches "R-Auth" is recorded. The service is pointed at the proxy as its issuer, so the
 * proxy rewrites the IdP's own origin to its own in response bodies (the discovery document
 * names the issuer and its endpoints) and in `Location`. When the IdP is down, the proxy drops
 * the connection, as a stopped IdP would refuse it.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: what RAUTH_URL holds. */
  origin: string;
  /** `METHOD /path` of every request received, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startCountingProxy(upstreamOrigin: string): Promise<CountingProxy> {
  const upstream = new URL(upstreamOrigin);
  const requests: string[] = [];
  let origin = '';
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host, 'accept-encoding': 'identity' } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8').replaceAll(upstream.origin, origin);
            const headers = { ...answer.headers };
            delete headers['transfer-encoding'];
            if (typeof headers.location === 'string') headers.location = headers.location.replaceAll(upstream.origin, origin);
            headers['content-length'] = String(Buffer.byteLength(text));
            res.writeHead(answer.statusCode ?? 502, headers).end(text);
          });
        },
      );
      forward.on('error', () => res.socket?.destroy());
      forward.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
