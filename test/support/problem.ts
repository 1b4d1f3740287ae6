/** What every 4xx/5xx of the service must be: an RFC 9457 problem naming its request. */
import { expect } from '@jest/globals';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  json: any;
}

export function expectProblem(answer: HttpAnswer, status: number): void {
  expect({ status: answer.status, contentType: answer.headers.get('content-type') }).toEqual({ status, contentType: 'application/problem+json' });
  expect(answer.json).toEqual(
    expect.objectContaining({
      type: expect.stringMatching(/^urn:citadel:iam:problem:/),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      request_id: answer.headers.get('x-request-id'),
    }),
  );
}
