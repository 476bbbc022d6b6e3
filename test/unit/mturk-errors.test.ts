import { RequestError, ServiceFault } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { FailureType } from '../../src/common/errors';
import {
  classifyMTurkError,
  isDuplicateTokenError,
  redactSecrets,
  rethrowMTurkError,
  type MTurkFailureDetails,
} from '../../src/mturk/errors';

const ASSIGNMENT = '3AMYWKA6YBLU92KSOGLNT786ESP6OD';
const context = { operation: 'SendBonus', assignmentId: ASSIGNMENT };

function requestError(message: string, turkErrorCode?: string, requestId = 'req-123') {
  return new RequestError({
    message,
    Message: message,
    TurkErrorCode: turkErrorCode,
    $metadata: { httpStatusCode: 400, requestId },
  });
}

/** An SDK-style error of any name, as the SDK builds for errors outside the model. */
function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: {}, ...extra });
}

function failureOf(err: unknown): ApplicationFailure {
  const result = classifyMTurkError(err, context);
  if (result.retryable) throw new Error(`expected non-retryable, got retryable: ${result.reason}`);
  return result.failure;
}

describe('classifyMTurkError: retryable', () => {
  const retryable: [string, unknown][] = [
    [
      'ServiceFault',
      new ServiceFault({
        message: 'Amazon Mechanical Turk is temporarily unable to process your request.',
        $metadata: { httpStatusCode: 500 },
      }),
    ],
    ['ThrottlingException', sdkError('ThrottlingException', { message: 'Rate exceeded' })],
    ['TooManyRequestsException', sdkError('TooManyRequestsException')],
    ['ServiceUnavailable', sdkError('ServiceUnavailable')],
    ['$retryable trait', sdkError('SomethingNew', { $retryable: { throttling: false } })],
    ['HTTP 429', sdkError('Unknown', { $metadata: { httpStatusCode: 429 } })],
    ['HTTP 502', sdkError('Unknown', { $metadata: { httpStatusCode: 502 } })],
    ['TimeoutError', sdkError('TimeoutError')],
    ['AbortError', sdkError('AbortError')],
    ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['socket hang up', new Error('socket hang up')],
    [
      'wrapped network error',
      new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }),
    ],
    ['RequestError saying Rate exceeded', requestError('Rate exceeded')],
    [
      'RequestError with a throttling code',
      requestError('Slow down', 'AWS.MechanicalTurk.Throttled'),
    ],
    ['unrecognised error', new TypeError('something unexpected')],
    ['credentials error', sdkError('CredentialsProviderError')],
    [
      'UnrecognizedClientException',
      sdkError('UnrecognizedClientException', { $metadata: { httpStatusCode: 400 } }),
    ],
    ['a string', 'boom'],
    ['retryable ApplicationFailure', ApplicationFailure.retryable('later', 'Later')],
  ];
  it.each(retryable)('%s → retryable', (_name, err) => {
    expect(classifyMTurkError(err, context).retryable).toBe(true);
  });

  it('rethrowMTurkError rethrows a retryable error unchanged', () => {
    const err = new ServiceFault({ message: 'fault', $metadata: {} });
    expect(() => rethrowMTurkError(err, context)).toThrow(err);
  });
});

describe('classifyMTurkError: MTurk refused the request', () => {
  it.each([
    [
      'InsufficientFunds by code',
      requestError('Not enough money.', 'AWS.MechanicalTurk.InsufficientFunds'),
      FailureType.InsufficientFunds,
    ],
    [
      'InsufficientFunds by message',
      requestError(
        'This Requester has insufficient funds in their account to complete this transaction.',
      ),
      FailureType.InsufficientFunds,
    ],
    [
      'assignment does not exist (Mephisto#1081)',
      requestError(`Assignment ${ASSIGNMENT} does not exist. (1625139618656)`),
      FailureType.AssignmentNotFound,
    ],
    [
      'AssignmentDoesNotExist code',
      requestError('Unknown.', 'AWS.MechanicalTurk.AssignmentDoesNotExist'),
      FailureType.AssignmentNotFound,
    ],
    [
      'InvalidAssignmentState (Dallinger#3072)',
      requestError(
        'This operation can be called with a status of: Submitted (1625139618656)',
        'AWS.MechanicalTurk.InvalidAssignmentState',
      ),
      FailureType.AssignmentNotApprovable,
    ],
    [
      'worker did not complete the assignment',
      requestError(
        `Worker A1B2C3D4E5F6G7 did not complete assignment ${ASSIGNMENT}.`,
        'AWS.MechanicalTurk.InvalidParameterValue',
      ),
      FailureType.WorkerMismatch,
    ],
    [
      'worker does not match',
      requestError('The worker ID does not match the assignment.'),
      FailureType.WorkerMismatch,
    ],
    [
      'any other RequestError',
      requestError(
        'The bonus amount must be greater than $0.00.',
        'AWS.MechanicalTurk.InvalidParameterValue',
      ),
      FailureType.MTurkRequestRejected,
    ],
    [
      'ValidationException',
      sdkError('ValidationException', { $metadata: { httpStatusCode: 400, requestId: 'r' } }),
      FailureType.MTurkRequestRejected,
    ],
  ])('%s → %s', (_name, err, type) => {
    const failure = failureOf(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
  });

  it('names the operation, the assignment, MTurk message, code and request ID', () => {
    const failure = failureOf(
      requestError('Not enough money.', 'AWS.MechanicalTurk.InsufficientFunds', 'abc-req-1'),
    );
    expect(failure.message).toBe(
      `MTurk rejected SendBonus for assignment ${ASSIGNMENT}: Not enough money. ` +
        '(TurkErrorCode AWS.MechanicalTurk.InsufficientFunds, request ID abc-req-1)',
    );
    const details = failure.details?.[0] as MTurkFailureDetails;
    expect(details).toEqual({
      operation: 'SendBonus',
      assignmentId: ASSIGNMENT,
      turkErrorCode: 'AWS.MechanicalTurk.InsufficientFunds',
      requestId: 'abc-req-1',
      mturkMessage: 'Not enough money.',
      httpStatusCode: 400,
    });
  });

  it('works without an assignment in the context', () => {
    const result = classifyMTurkError(requestError('Nope.'), { operation: 'GetAccountBalance' });
    expect(result.retryable).toBe(false);
    if (!result.retryable)
      expect(result.failure.message).toMatch(/^MTurk rejected GetAccountBalance: Nope\./);
  });

  it('keeps credential-like text out of the failure', () => {
    const failure = failureOf(
      requestError(
        'Signature mismatch. Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/mturk-requester/aws4_request, Signature=0123abcd',
      ),
    );
    expect(JSON.stringify([failure.message, failure.details])).not.toMatch(/AKIA|0123abcd/);
  });

  it('passes a non-retryable ApplicationFailure through and rethrows it', () => {
    const original = ApplicationFailure.nonRetryable('bad', FailureType.InvalidBonusRequest);
    expect(failureOf(original)).toBe(original);
    expect(() => rethrowMTurkError(original, context)).toThrow(original);
  });

  it('rethrowMTurkError throws the typed failure for a RequestError', () => {
    expect(() => rethrowMTurkError(requestError('Assignment X does not exist.'), context)).toThrow(
      expect.objectContaining({ type: FailureType.AssignmentNotFound, nonRetryable: true }),
    );
  });
});

describe('redactSecrets', () => {
  it('removes access key IDs, credentials, signatures and session tokens', () => {
    const text =
      'AKIAIOSFODNN7EXAMPLE ASIAIOSFODNN7EXAMPLE Credential=AKIA/x, Signature=deadbeef X-Amz-Security-Token=FwoGZX';
    const redacted = redactSecrets(text);
    expect(redacted).not.toMatch(/IOSFODNN7|deadbeef|FwoGZX/);
    expect(redactSecrets('plain message')).toBe('plain message');
  });
});

describe('isDuplicateTokenError', () => {
  it.each([
    [
      'the emulator wording',
      requestError(
        'The request with UniqueRequestToken tok-1 has already been processed (request ID 1234).',
        'AWS.MechanicalTurk.DuplicateRequest',
      ),
    ],
    [
      'a DuplicateRequest code alone',
      requestError('Error.', 'AWS.MechanicalTurk.DuplicateRequest'),
    ],
    ['"already exists"', requestError('The bonus already exists (request ID abc).')],
    ['token already used', requestError('This token was already used by request 1234.')],
    ['duplicate request', requestError('Duplicate request: see request ID 99.')],
    ['same token', requestError('A request with the same UniqueRequestToken was made: 99.')],
  ])('recognises %s', (_name, err) => {
    expect(isDuplicateTokenError(err)).toBe(true);
  });

  it.each([
    ['assignment does not exist', requestError(`Assignment ${ASSIGNMENT} does not exist.`)],
    [
      'invalid state',
      requestError(
        'This operation can be called with a status of: Submitted',
        'AWS.MechanicalTurk.InvalidAssignmentState',
      ),
    ],
    [
      'insufficient funds',
      requestError('insufficient funds', 'AWS.MechanicalTurk.InsufficientFunds'),
    ],
    [
      'token validation error',
      requestError(
        "1 validation error detected: Value at 'uniqueRequestToken' failed to satisfy constraint: Member must have length less than or equal to 64",
      ),
    ],
    [
      'a ServiceFault that says already',
      new ServiceFault({ message: 'already processed', $metadata: {} }),
    ],
    ['a plain Error', new Error('The request has already been processed')],
    ['undefined', undefined],
  ])('does not mistake %s for a reused token', (_name, err) => {
    expect(isDuplicateTokenError(err)).toBe(false);
  });
});
