import { describe, expect, it } from '@jest/globals';
import { BadRequestError, DependencyUnavailableError, NotFoundError } from '../../../lib/errors.js';
import { problemResponse, toAppError } from '../../../lib/http/problem.js';

describe('problemResponse', () => {
  it('tells the caller what is wrong on a 4xx', () => {
    const response = problemResponse(new BadRequestError('subject is missing', [{ path: 'subject', message: 'is required' }]), 'req-1');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toEqual({
      type: 'urn:citadel:iam:problem:bad-request',
      title: 'Bad Request',
      status: 400,
      detail: 'subject is missing',
      request_id: 'req-1',
      errors: [{ path: 'subject', message: 'is required' }],
    });
  });

  it('turns an unexpected error into a generic 500 that leaks nothing', () => {
    const response = problemResponse(toAppError(new Error('password authentication failed for user "iam" at 10.0.0.5')), 'req-2');
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/password|10\.0\.0\.5|iam"/);
    expect(JSON.parse(response.body)).toMatchObject({ status: 500, request_id: 'req-2', title: 'Internal Server Error' });
  });

  it('answers a failed dependency with 503, Retry-After and no detail of the cause', () => {
    const response = problemResponse(new DependencyUnavailableError('database', new Error('ECONNREFUSED 10.1.2.3:5432')), 'req-3');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).not.toContain('ECONNREFUSED');
  });

  it('keeps an AppError as it is', () => {
    const error = new NotFoundError('no such tenant');
    expect(toAppError(error)).toBe(error);
  });
});
