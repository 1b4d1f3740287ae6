import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpFront } from '../../../local/http-front.js';

/** The local HTTP front's own answers, given before any function runs. */
let server: Server;
let base: string;
const served: string[] = [];

beforeAll(async () => {
  const handler = async (event: { routeKey: string }) => {
    served.push(event.routeKey);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
  };
  server = createHttpFront([
    { method: 'GET', path: '/tenants/{tenant}', handler },
    { method: 'PATCH', path: '/tenants/{tenant}', handler },
  ]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The functions' problem shape (lib/http/problem.ts), with the request id in header and body. */
async function problem(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: expect.stringMatching(/^urn:citadel:iam:problem:/), title: expect.any(String), status, detail: expect.any(String) });
  expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers.get('x-request-id')).toBe(body.request_id);
  return body;
}

describe('the local HTTP front', () => {
  it('answers an unknown path with a 404 problem naming the method and path', async () => {
    const body = await problem(await fetch(`${base}/nope/here?x=1`, { method: 'DELETE' }), 404);
    expect(body).toMatchObject({ type: 'urn:citadel:iam:problem:route-not-found', title: 'Not Found' });
    expect(body.detail).toContain('DELETE /nope/here');
  });

  it('answers a served path with another method with 405 and the methods it serves', async () => {
    const response = await fetch(`${base}/tenants/acme`, { method: 'DELETE' });
    expect(response.headers.get('allow')).toBe('GET, PATCH');
    const body = await problem(response, 405);
    expect(body).toMatchObject({ type: 'urn:citadel:iam:problem:method-not-allowed' });
    expect(body.detail).toContain('DELETE');
  });

  it('answers a path parameter that is not valid percent-encoding with a 400 problem', async () => {
    const body = await problem(await fetch(`${base}/tenants/%E0%A4%A`), 400);
    expect(body.detail).toContain('/tenants/%E0%A4%A');
  });

  it('answers a body over the 6 MB Lambda limit with a 413 problem', async () => {
    await problem(await fetch(`${base}/tenants/acme`, { method: 'PATCH', body: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20) }), 413);
  });

  it('gives a fresh request id to each refusal', async () => {
    const [a, b] = await Promise.all([fetch(`${base}/a`), fetch(`${base}/b`)]);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('hands a matching request to the function', async () => {
    expect((await fetch(`${base}/tenants/acme`)).status).toBe(200);
    expect(served).toEqual(['GET /tenants/{tenant}']);
  });
});
