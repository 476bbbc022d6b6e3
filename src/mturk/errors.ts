/**
 * The one place that decides what an error from @aws-sdk/client-mturk means for Temporal.
 *
 * Retryable errors are rethrown untouched so Temporal's retry policy retries them with backoff;
 * that is safe because every SendBonus carries a UniqueRequestToken and the activities look
 * payments up before paying again. Errors that say MTurk refused the request become a
 * non-retryable ApplicationFailure with a stable `type` (see FailureType) that callers branch on.
 *
 * When in doubt we retry: a wrongly retried call is made harmless by tokens and look-ups, while
 * wrongly giving up on a bonus leaves a worker unpaid.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';

export interface MTurkErrorContext {
  /** The MTurk operation that failed, e.g. "SendBonus". */
  operation: string;
  assignmentId?: string;
}

export type MTurkErrorClassification =
  { retryable: true; reason: string } | { retryable: false; failure: ApplicationFailure };

/** What the failure's `details[0]` holds, for callers that want MTurk's own words. */
export interface MTurkFailureDetails {
  operation: string;
  assignmentId?: string;
  turkErrorCode?: string;
  requestId?: string;
  mturkMessage: string;
  httpStatusCode?: number;
}

/** AWS and smithy names for "slow down" (the JS SDK's own list plus MTurk's legacy one). */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** "MTurk or the path to it hiccupped": server faults, timeouts, aborted requests. */
const TRANSIENT_NAMES = new Set([
  'ServiceFault',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);

/** Node socket and DNS failures (`err.code`), including undici's. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const NETWORK_MESSAGES = /socket hang up|network error|connection (was )?(reset|closed|refused)/i;

/**
 * AWS protocol-level rejections that no retry can fix (the request itself is malformed).
 * Authentication errors are deliberately absent: an operator can fix credentials while
 * Temporal keeps retrying, and the payment then goes through.
 */
const MALFORMED_REQUEST_NAMES = new Set([
  'ValidationException',
  'SerializationException',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'MissingParameter',
  'UnknownOperationException',
]);

interface ErrorFields {
  name?: string;
  message: string;
  code?: string;
  turkErrorCode?: string;
  requestId?: string;
  httpStatusCode?: number;
  retryableTrait: boolean;
  cause?: unknown;
}

function fieldsOf(err: unknown): ErrorFields {
  if (typeof err !== 'object' || err === null) {
    return { message: String(err), retryableTrait: false };
  }
  const e = err as Record<string, unknown>;
  const metadata = (typeof e.$metadata === 'object' && e.$metadata !== null ? e.$metadata : {}) as
    Record<string, unknown> | undefined;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  return {
    name: str(e.name),
    message: str(e.message) ?? str(e.Message) ?? '',
    code: str(e.code),
    turkErrorCode: str(e.TurkErrorCode),
    requestId: str(metadata?.requestId),
    httpStatusCode:
      typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined,
    retryableTrait: e.$retryable !== undefined && e.$retryable !== null,
    cause: e.cause,
  };
}

/** Why an error should be retried, or undefined when nothing marks it as transient. */
function transientReason(err: unknown, depth = 0): string | undefined {
  const f = fieldsOf(err);
  if (f.name && THROTTLING_NAMES.has(f.name)) return `throttled (${f.name})`;
  if (f.name && TRANSIENT_NAMES.has(f.name)) return `transient (${f.name})`;
  if (f.retryableTrait) return `marked retryable by the SDK (${f.name ?? 'error'})`;
  if (f.httpStatusCode === 429) return 'throttled (HTTP 429)';
  if (f.httpStatusCode !== undefined && f.httpStatusCode >= 500) {
    return `server error (HTTP ${f.httpStatusCode})`;
  }
  if (f.code && NETWORK_CODES.has(f.code)) return `network error (${f.code})`;
  if (NETWORK_MESSAGES.test(f.message)) return `network error (${f.message})`;
  // The SDK and undici wrap socket errors: look through a few layers of `cause`.
  if (f.cause !== undefined && depth < 5) return transientReason(f.cause, depth + 1);
  return undefined;
}

/**
 * Scrubs anything credential-like from text we put in failures and logs. MTurk's messages do
 * not normally contain any, but signature errors echo parts of the signed request.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '[redacted access key id]')
    .replace(/(Credential=)[^,\s]+/g, '$1[redacted]')
    .replace(/(Signature=)[0-9a-fA-F]+/g, '$1[redacted]')
    .replace(/(X-Amz-Security-Token[=:]\s*)[^&\s]+/gi, '$1[redacted]');
}

function isRequestError(f: ErrorFields): boolean {
  return f.name === 'RequestError';
}

function failureTypeOf(f: ErrorFields): FailureType {
  const code = f.turkErrorCode ?? '';
  const text = f.message;
  if (/InsufficientFunds/i.test(code) || /insufficient funds/i.test(text)) {
    return FailureType.InsufficientFunds;
  }
  if (/InvalidAssignmentState/i.test(code) || /can be called with a status of/i.test(text)) {
    return FailureType.AssignmentNotApprovable;
  }
  // MTurk's wording for "this worker did not do this assignment" is not documented: accept a
  // code naming the worker, or a message that pairs "worker" with a mismatch.
  if (
    /Worker(Mismatch|IdMismatch|NotAssociated)|InvalidWorker/i.test(code) ||
    /\bworker\b[^.]*\b(does not match|doesn't match|mismatch|is not associated|not the worker|did not (work on|submit|complete)|has not (worked on|submitted|completed))/i.test(
      text,
    )
  ) {
    return FailureType.WorkerMismatch;
  }
  if (/DoesNotExist|NotFound/i.test(code) || /does not exist|not found/i.test(text)) {
    return FailureType.AssignmentNotFound;
  }
  return FailureType.MTurkRequestRejected;
}

function rejectionFailure(f: ErrorFields, context: MTurkErrorContext): ApplicationFailure {
  const type = MALFORMED_REQUEST_NAMES.has(f.name ?? '')
    ? FailureType.MTurkRequestRejected
    : failureTypeOf(f);
  const mturkMessage = redactSecrets(f.message || '(no message)');
  const subject = context.assignmentId ? ` for assignment ${context.assignmentId}` : '';
  const facts = [
    f.turkErrorCode ? `TurkErrorCode ${f.turkErrorCode}` : undefined,
    f.name && f.name !== 'RequestError' ? `error ${f.name}` : undefined,
    `request ID ${f.requestId ?? 'unknown'}`,
  ].filter((x): x is string => x !== undefined);
  const details: MTurkFailureDetails = {
    operation: context.operation,
    ...(context.assignmentId !== undefined && { assignmentId: context.assignmentId }),
    ...(f.turkErrorCode !== undefined && { turkErrorCode: f.turkErrorCode }),
    ...(f.requestId !== undefined && { requestId: f.requestId }),
    mturkMessage,
    ...(f.httpStatusCode !== undefined && { httpStatusCode: f.httpStatusCode }),
  };
  return ApplicationFailure.create({
    type,
    message: `MTurk rejected ${context.operation}${subject}: ${mturkMessage} (${facts.join(', ')})`,
    nonRetryable: true,
    details: [details],
  });
}

/**
 * Classifies an error thrown by an MTurk call (or by the SDK on its way there).
 *
 * - ServiceFault, throttling, timeouts, aborted or reset connections, HTTP 429/5xx, errors the
 *   SDK marks `$retryable`, and anything unrecognised → `{ retryable: true }`: rethrow as-is.
 * - RequestError (MTurk refused the request) and AWS "malformed request" errors → a
 *   non-retryable ApplicationFailure typed InsufficientFunds, AssignmentNotApprovable,
 *   WorkerMismatch, AssignmentNotFound or MTurkRequestRejected. A RequestError whose code
 *   or message says "throttled" is treated as throttling.
 * - An ApplicationFailure passes through with its own retryability.
 *
 * A RequestError about a reused UniqueRequestToken is classified like any other RequestError;
 * SendBonus must test {@link isDuplicateTokenError} first.
 */
export function classifyMTurkError(
  err: unknown,
  context: MTurkErrorContext,
): MTurkErrorClassification {
  if (err instanceof ApplicationFailure) {
    return err.nonRetryable
      ? { retryable: false, failure: err }
      : { retryable: true, reason: `retryable ApplicationFailure (${err.type ?? 'no type'})` };
  }
  const f = fieldsOf(err);
  if (isRequestError(f)) {
    if (/Throttl|ServiceUnavailable|RateExceeded/i.test(f.turkErrorCode ?? '')) {
      return { retryable: true, reason: `throttled (${f.turkErrorCode})` };
    }
    if (/rate exceeded|throttl/i.test(f.message)) {
      return { retryable: true, reason: 'throttled (RequestError)' };
    }
    return { retryable: false, failure: rejectionFailure(f, context) };
  }
  const transient = transientReason(err);
  if (transient !== undefined) return { retryable: true, reason: transient };
  if (MALFORMED_REQUEST_NAMES.has(f.name ?? '')) {
    return { retryable: false, failure: rejectionFailure(f, context) };
  }
  return { retryable: true, reason: `unrecognised error (${f.name ?? typeof err})` };
}

/** Throws what Temporal should see: the original error if retryable, else the typed failure. */
/**
 * For approve and reject: MTurk's refusal because of the assignment's state (typed
 * AssignmentNotApprovable), which the caller answers by reading the assignment again. Anything
 * else is rethrown as rethrowMTurkError would.
 */
export function assignmentStateRefusal(
  err: unknown,
  context: MTurkErrorContext,
): ApplicationFailure {
  const classification = classifyMTurkError(err, context);
  if (classification.retryable) throw err;
  if (classification.failure.type === FailureType.AssignmentNotApprovable) {
    return classification.failure;
  }
  throw classification.failure;
}

export function rethrowMTurkError(err: unknown, context: MTurkErrorContext): never {
  const classification = classifyMTurkError(err, context);
  if (classification.retryable) throw err;
  throw classification.failure;
}

const DUPLICATE_TOKEN_CODE = /Duplicate|AlreadyExists|AlreadyProcessed|IdempotentParameter/i;
const DUPLICATE_TOKEN_MESSAGES = [
  /\b(unique ?request ?)?token\b[^.]*\b(already|previously|been used|in use|reused|duplicate)/i,
  /\balready (been )?(processed|exists?|used|granted|sent|paid|submitted)\b/i,
  /\bduplicate (request|token|bonus|payment)\b/i,
  /\bsame (unique ?request ?)?token\b/i,
];
/** Input-validation wording that mentions the token without saying it was used before. */
const TOKEN_VALIDATION_MESSAGE = /failed to satisfy constraint|must have length|must be between/i;

/**
 * True when MTurk says a SendBonus with this UniqueRequestToken was already accepted. MTurk
 * documents only that the error's message "contains the request ID"; its type and wording are
 * unknown, so this matches a RequestError mentioning a used token, an already processed or
 * existing request, or a duplicate, and nothing else. The caller must still confirm the payment
 * with ListBonusPayments.
 */
export function isDuplicateTokenError(err: unknown): boolean {
  const f = fieldsOf(err);
  if (!isRequestError(f)) return false;
  if (DUPLICATE_TOKEN_CODE.test(f.turkErrorCode ?? '')) return true;
  if (TOKEN_VALIDATION_MESSAGE.test(f.message)) return false;
  return DUPLICATE_TOKEN_MESSAGES.some((pattern) => pattern.test(f.message));
}
