import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpEvent } from '../../../lib/http/types.js';
import { createFunctionUrl } from '../../../local/function-url.js';
import { newLocalIamUser, signingKeys } from '../../../local/local-iam-user.js';
import { createSigV4Verifier } from '../../../local/sigv4-verifier.js';
import { send, sign, type WireRequest } from '../../support/sigv4.js';

/** The local Function URL in front of a handler that records what Lambda would hand it. */
const user = newLocalIamUser();
const seen: HttpEvent[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createFunctionUrl({
    name: '/system/enrich-token',
    verify: createSigV4Verifier({ region: 'eu-west-1', service: 'lambda', keys: signingKeys(user) }),
    handler: async (event) => {
      seen.push(event);
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (): WireRequest => ({
  method: 'POST',
  rawPath: '/any/path',
  rawQuery: 'x=1',
  headers: { host: new URL(url).host, 'content-type': 'application/json' },
  body: Buffer.from('{"subject":"user-alice"}'),
});
const keys = () => ({ accessKeyId: user.access_key_id, secretAccessKey: user.secret_access_key });

describe('the local Function URL', () => {
  it('hands a signed request to the function with the signer in requestContext.authorizer.iam', async () => {
    seen.length = 0;
    const answer = await send(url, await sign(call(), keys()));
    expect(answer.status).toBe(200);
    expect(seen).toHaveLength(1);
    const [event] = seen;
    expect(event).toMatchObject({ routeKey: '$default', rawPath: '/any/path', rawQueryString: 'x=1', body: '{"subject":"user-alice"}' });
    expect(event!.requestContext).toMatchObject({
      http: { method: 'POST', path: '/any/path' },
      authorizer: {
        iam: {
          accessKey: user.access_key_id,
          accountId: '000000000000',
          callerId: user.user_id,
          userArn: 'arn:aws:iam::000000000000:user/iam-service-local-gateway',
          userId: user.user_id,
        },
      },
    });
  });

  it("answers Lambda's 403 to a refused request without running the function", async () => {
    seen.length = 0;
    const signed = await sign(call(), keys());
    for (const request of [call(), { ...signed, body: Buffer.from('{"subject":"user-bob"}') }]) {
      const answer = await send(url, request);
      expect(answer.status).toBe(403);
      expect(answer.headers).toMatchObject({ 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' });
      expect(JSON.parse(answer.body).Message).toMatch(/^Forbidden\. For troubleshooting Function URL authorization issues/);
    }
    expect(seen).toHaveLength(0);
  });
});
