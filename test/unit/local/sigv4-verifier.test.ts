import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createSigV4Verifier, type ReceivedRequest } from '../../../local/sigv4-verifier.js';
import { arbitraryRequest, mutation, sign, type WireRequest } from '../../support/sigv4.js';

const HOST = 'abcdefgh.lambda-url.eu-west-1.on.aws';
const credentials = { accessKeyId: 'AKIAEXAMPLELOCAL0001', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAx' };
const identity = {
  accessKey: credentials.accessKeyId,
  accountId: '000000000000',
  callerId: 'AIDAEXAMPLE',
  userArn: 'arn:aws:iam::000000000000:user/gateway',
  userId: 'AIDAEXAMPLE',
};
const NOW = Date.parse('2026-03-01T12:00:00Z');
const verify = createSigV4Verifier({
  region: 'eu-west-1',
  service: 'lambda',
  keys: new Map([[credentials.accessKeyId, { secretAccessKey: credentials.secretAccessKey, identity }]]),
  now: () => NOW,
});

const received = (r: WireRequest): ReceivedRequest => r;
const enrichCall = (body = '{"subject":"user-alice","tenant":"acme"}'): WireRequest => ({
  method: 'POST',
  rawPath: '/',
  rawQuery: '',
  headers: { host: HOST, 'content-type': 'application/json' },
  body: new TextEncoder().encode(body),
});
const signed = (request = enrichCall(), options: Parameters<typeof sign>[2] = {}, creds = credentials) =>
  sign(request, creds, { date: new Date(NOW), ...options });
const reasonOf = async (request: WireRequest) => {
  const verdict = await verify(received(request));
  return verdict.ok ? 'accepted' : verdict.reason;
};

describe('the local Function URL SigV4 check', () => {
  it('accepts a request signed by @smithy/signature-v4 and names the signer', async () => {
    expect(await verify(received(await signed()))).toEqual({ ok: true, identity });
  });

  it('accepts a signature without x-amz-content-sha256, as curl sends it', async () => {
    const request = await signed(enrichCall(), { contentHash: false });
    expect(request.headers['x-amz-content-sha256']).toBeUndefined();
    expect(await reasonOf(request)).toBe('accepted');
  });

  it('accepts encoded paths, unsorted and repeated query parameters', async () => {
    const request = { ...enrichCall(), rawPath: '/a%20b/%C3%A9t%C3%A9/x', rawQuery: 'z=1&a=%2F%20&a=0&empty=' };
    expect(await reasonOf(await signed(request))).toBe('accepted');
  });

  it('accepts a date up to five minutes off either way', async () => {
    expect(await reasonOf(await signed(enrichCall(), { date: new Date(NOW - 299_000) }))).toBe('accepted');
    expect(await reasonOf(await signed(enrichCall(), { date: new Date(NOW + 299_000) }))).toBe('accepted');
  });

  it.each([
    ['unsigned', async () => enrichCall(), 'unsigned'],
    ['another scheme', async () => ({ ...enrichCall(), headers: { ...enrichCall().headers, authorization: 'Bearer abc' } }), 'not a SigV4 Authorization header'],
    ['an unknown access key', async () => signed(enrichCall(), {}, { ...credentials, accessKeyId: 'AKIAEXAMPLELOCAL0002' }), 'unknown access key'],
    ['a wrong secret', async () => signed(enrichCall(), {}, { ...credentials, secretAccessKey: 'wrong' }), 'signature does not match'],
    ['another region', async () => signed(enrichCall(), { region: 'us-east-1' }), 'credential scope names another region'],
    ['another service', async () => signed(enrichCall(), { service: 'execute-api' }), 'credential scope names another service'],
    ['a date 10 minutes old', async () => signed(enrichCall(), { date: new Date(NOW - 600_000) }), 'signature expired (X-Amz-Date more than 5 minutes off)'],
    ['a date 10 minutes ahead', async () => signed(enrichCall(), { date: new Date(NOW + 600_000) }), 'signature expired (X-Amz-Date more than 5 minutes off)'],
  ])('refuses %s', async (_name, build, reason) => {
    expect(await reasonOf(await build())).toBe(reason);
  });

  it('refuses a changed body, whether or not the caller sent a content hash', async () => {
    const withHash = await signed();
    expect(await reasonOf({ ...withHash, body: new TextEncoder().encode('{"subject":"user-mallory","tenant":"acme"}') })).toBe('x-amz-content-sha256 is not the hash of the body');
    const withoutHash = await signed(enrichCall(), { contentHash: false });
    expect(await reasonOf({ ...withoutHash, body: new TextEncoder().encode('{"subject":"user-mallory","tenant":"acme"}') })).toBe('signature does not match');
  });

  it('refuses a changed body sent with the hash of the changed body', async () => {
    const body = new TextEncoder().encode('{"subject":"user-mallory"}');
    const request = await signed();
    const hash = createHash('sha256').update(body).digest('hex');
    expect(await reasonOf({ ...request, body, headers: { ...request.headers, 'x-amz-content-sha256': hash } })).toBe('signature does not match');
  });

  it('refuses UNSIGNED-PAYLOAD: a Function URL signs the body', async () => {
    const request = await signed({ ...enrichCall(), headers: { ...enrichCall().headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(await reasonOf(request)).toBe('x-amz-content-sha256 is not the hash of the body');
  });

  it('refuses a missing or malformed X-Amz-Date', async () => {
    const request = await signed();
    const { 'x-amz-date': _date, ...without } = request.headers;
    expect(await reasonOf({ ...request, headers: without })).toBe('missing or malformed X-Amz-Date');
    expect(await reasonOf({ ...request, headers: { ...request.headers, 'x-amz-date': '20260231T120000Z' } })).toBe('missing or malformed X-Amz-Date');
  });

  it('refuses a signature that leaves out host', async () => {
    const request = await signed();
    const authorization = request.headers.authorization!.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type;x-amz-content-sha256;x-amz-date');
    expect(await reasonOf({ ...request, headers: { ...request.headers, authorization } })).toBe('host and x-amz-date must be signed');
  });

  it('refuses a session token, presigned-URL parameters and a malformed Authorization', async () => {
    const request = await signed();
    expect(await reasonOf({ ...request, headers: { ...request.headers, 'x-amz-security-token': 'token' } })).toBe('unexpected session token');
    expect(await reasonOf({ ...request, rawQuery: 'X-Amz-Signature=00' })).toBe('query-string authentication');
    const doubled = `${request.headers.authorization}, Signature=${'0'.repeat(64)}`;
    expect(await reasonOf({ ...request, headers: { ...request.headers, authorization: doubled } })).toBe('not a SigV4 Authorization header');
  });

  it('refuses every change to a signed request (property)', async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(arbitraryRequest(HOST), mutation, async (request, change) => {
        const original = await signed(request);
        expect(await reasonOf(original)).toBe('accepted');
        const changed = change.apply(original);
        if (!changed) return;
        const verdict = await verify(received(changed));
        outcomes.set(change.name, (outcomes.get(change.name) ?? 0) + 1);
        expect(verdict.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
    // Every kind of change was tried.
    expect(outcomes.size).toBe(14);
    process.stderr.write(`sigv4 verifier property: ${[...outcomes.values()].reduce((a, b) => a + b)} mutated requests refused ${JSON.stringify(Object.fromEntries(outcomes))}\n`);
  }, 120_000);
});
