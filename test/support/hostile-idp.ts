/**
 * A misbehaving IdP on 127.0.0.1:0 for the adapter's failure tests. It serves an honest discovery
 * document and registration endpoint until told otherwise; `behave` sets what the next answers
 * to registration/management calls (or discovery) do. Every request is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Misbehaviour =
  | 'honest'
  | 'hang' // never answers
  | 'slow' // sends headers, then the body long after any sane timeout
  | 'status500'
  | 'error200' // 200 with {"error":"server_error"}
  | 'huge' // a valid 5 MB JSON body, no content-length
  | 'extraFields'
  | 'unauthorizedOnce' // 401 to the first call, then honest
  | 'rejectOddCode' // 400 with an error code that is not an RFC 7591 one
  | 'foreignUri'; // registration_client_uri on another host

export interface HostileIdp {
  issuer: string;
  registrationEndpoint: string;
  requests: Array<{ method: string; path: string; authorization: string | undefined }>;
  behave(registration: Misbehaviour, discovery?: Misbehaviour): void;
  stop(): Promise<void>;
}

export async function startHostileIdp(): Promise<HostileIdp> {
  let registrationMode: Misbehaviour = 'honest';
  let discoveryMode: Misbehaviour = 'honest';
  const requests: HostileIdp['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    req.resume(); // drain any body
    const isDiscovery = req.url === '/.well-known/openid-configuration';
    const mode = isDiscovery ? discoveryMode : registrationMode;
    if (mode === 'unauthorizedOnce') registrationMode = 'honest';
    misbehave(mode, req, res, isDiscovery ? discoveryDocument() : registrationBody(req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const discoveryDocument = () => ({ issuer, token_endpoint: `${issuer}/token`, registration_endpoint: `${issuer}/reg` });
  const registrationBody = (req: IncomingMessage) => {
    const id = req.url?.startsWith('/reg/') ? req.url.slice(5) : 'client-1';
    return {
      client_id: id,
      client_secret: 'the-secret',
      client_name: 'hostile',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scope: 'iam',
      token_endpoint_auth_method: 'client_secret_basic',
      registration_client_uri: `${issuer}/reg/${id}`,
      registration_access_token: 'rat-1',
    };
  };

  function misbehave(mode: Misbehaviour, req: IncomingMessage, res: ServerResponse, honest: Record<string, unknown>) {
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const created = req.method === 'POST' ? 201 : req.method === 'DELETE' ? 204 : 200;
    switch (mode) {
      case 'hang':
        return;
      case 'slow': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"client_id":');
        const timer = setTimeout(() => res.end(JSON.stringify(honest).slice(1)), 60_000);
        timers.add(timer);
        return;
      }
      case 'status500':
        return json(500, { error: 'server_error' });
      case 'error200':
        return json(200, { error: 'server_error' });
      case 'huge': {
        // Valid JSON (the honest answer plus 5 MB of padding), so only a byte cap can refuse it.
        res.writeHead(created === 204 ? 200 : created, { 'content-type': 'application/json' });
        res.write('{"padding":"');
        const chunk = Buffer.alloc(64 * 1024, 0x78);
        let sent = 0;
        const pump = () => {
          while (sent < 5 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('",' + JSON.stringify(honest).slice(1));
        };
        res.on('error', () => {});
        return pump();
      }
      case 'extraFields':
        return json(created, { ...honest, surprise: '<script>', client_secret_expires_at: 0, nested: { deep: true } });
      case 'unauthorizedOnce':
        return json(401, { error: 'invalid_token' });
      case 'rejectOddCode':
        return json(400, { error: 'internal_db_detail', error_description: 'table clients: constraint x' });
      case 'foreignUri':
        return json(created, { ...honest, registration_client_uri: 'http://169.254.169.254/latest/meta-data' });
      case 'honest':
        return created === 204 ? res.writeHead(204).end() : json(created, honest);
    }
  }

  return {
    issuer,
    registrationEndpoint: `${issuer}/reg`,
    requests,
    behave(registration, discovery = 'honest') {
      registrationMode = registration;
      discoveryMode = discovery;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
