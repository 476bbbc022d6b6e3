/**
 * Input validation shared by the client helpers, the workflow entry point, the activities and
 * the CSV command. Bad input must be refused before anything reaches MTurk, with every problem
 * listed at once and named by its field.
 *
 * Pure and workflow-safe (our own money module only).
 *
 * Limits come from MTurk's service model (botocore mturk/2017-01-17/service-2.json):
 * - EntityId (assignment and HIT IDs): 1–64 chars, `^[A-Z0-9]+$`.
 * - CustomerId (worker IDs): 1–64 chars, `^A[A-Z0-9]+$`.
 * - IdempotencyToken (UniqueRequestToken): 1–64 chars, no pattern.
 * - CurrencyAmount: `^[0-9]+(\.)?[0-9]{0,2}$` (we are stricter, see money.ts).
 * - Reason and RequesterFeedback: plain strings, no documented maximum. We cap Reason at 4096
 *   characters (our choice, not MTurk's) and RequesterFeedback at 1024 (the limit the legacy
 *   MTurk API documented for approval feedback).
 */
import { reasonSentToMTurk } from './bonus-reason';
import { invalidBonusRequest, type ValidationIssue } from './errors';
import { endsWithKeyMarker } from './ledger-match';
import { formatCents, tryParseDollarsToCents } from './money';
import type {
  ApproveAndBonusInput,
  ApproveAssignmentInput,
  BonusNotification,
  MTurkTargetBinding,
  SendBonusInput,
} from './types';

/** Default cap on one bonus: $100.00. MTurk has no documented maximum; a typo should not pay $5000. */
export const DEFAULT_MAX_BONUS_CENTS = 10_000;
export const MTURK_ID_MAX_LENGTH = 64;
/** Our cap; MTurk documents none for SendBonus's Reason. */
export const REASON_MAX_LENGTH = 4096;
export const REQUESTER_FEEDBACK_MAX_LENGTH = 1024;
export const BONUS_KEY_MAX_LENGTH = 32;
export const UNIQUE_REQUEST_TOKEN_MAX_LENGTH = 64;

export interface ValidationLimits {
  /** Largest bonus accepted, in cents; default {@link DEFAULT_MAX_BONUS_CENTS}. */
  maxBonusCents?: number;
}

export type ValidatedApproveAndBonusInput = ApproveAndBonusInput & { bonusCents: number };
export type ValidatedSendBonusInput = SendBonusInput & { bonusCents: number };

export type CheckResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

// ---------------------------------------------------------------------------------------------
// Field rules as plain functions: each returns one clear message, or undefined when fine.
// ---------------------------------------------------------------------------------------------

const ENTITY_ID_PATTERN = /^[A-Z0-9]+$/;
const WORKER_ID_PATTERN = /^A[A-Z0-9]+$/;
const BONUS_KEY_PATTERN = /^[A-Za-z0-9_.-]+$/;
/** Visible ASCII: tokens end up in logs and MTurk's error messages, so keep them plain. */
const TOKEN_PATTERN = /^[\x21-\x7E]+$/;
/** C0 and C1 control characters and DEL, except tab (\x09) and line feed (\x0A). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CONTROL = /[\x00-\x08\x0B-\x1F\x7F-\x9F]/;
/** A lone UTF-16 surrogate cannot be encoded as UTF-8: MTurk would receive a replacement char. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkMTurkId(value: string, example: string, pattern: RegExp, shape: string) {
  if (value.length === 0) return 'must not be empty';
  if (value.length > MTURK_ID_MAX_LENGTH) {
    return `must be at most ${MTURK_ID_MAX_LENGTH} characters, got ${value.length}`;
  }
  if (!pattern.test(value)) {
    return `must be an MTurk ID: ${shape} (like ${example}), got ${JSON.stringify(value)}`;
  }
  return undefined;
}

export function checkAssignmentId(value: string): string | undefined {
  return checkMTurkId(
    value,
    '3AMYWKA6YBLU92KSOGLNT786ESP6OD',
    ENTITY_ID_PATTERN,
    'uppercase letters A-Z and digits 0-9 only',
  );
}

export function checkHitId(value: string): string | undefined {
  return checkMTurkId(
    value,
    '3Y3N5A7N4G9ZGHFQ0UBK4JB2ZRXMYP',
    ENTITY_ID_PATTERN,
    'uppercase letters A-Z and digits 0-9 only',
  );
}

export function checkWorkerId(value: string): string | undefined {
  return checkMTurkId(
    value,
    'A1B2C3D4E5F6G7',
    WORKER_ID_PATTERN,
    '"A" followed by uppercase letters A-Z and digits 0-9',
  );
}

function describeForbiddenText(value: string): string | undefined {
  const control = FORBIDDEN_CONTROL.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return (
      `must not contain control characters (only line feed and tab are allowed), ` +
      `found U+${code} at position ${control.index}`
    );
  }
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text (found a lone surrogate)';
  return undefined;
}

/** Checks the reason as it will be sent, i.e. after trimming. */
export function checkReason(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.length === 0) return 'must not be empty or only whitespace (the worker sees it)';
  if (trimmed.length > REASON_MAX_LENGTH) {
    return `must be at most ${REASON_MAX_LENGTH} characters, got ${trimmed.length}`;
  }
  return describeForbiddenText(trimmed);
}

/**
 * A reason a caller gives for a payment: as {@link checkReason}, and it must not end with the
 * marker a keyed bonus carries on MTurk's ledger (" (bonus <key>)", see ledger-match.ts), or an
 * unkeyed bonus could be taken for a keyed one there.
 */
export function checkPaymentReason(value: string): string | undefined {
  const message = checkReason(value);
  if (message !== undefined) return message;
  if (endsWithKeyMarker(value)) {
    return (
      'must not end with "(bonus <key>)": that suffix marks a keyed bonus on MTurk\'s ledger ' +
      '(set bonusKey instead, and the key is appended for you)'
    );
  }
  return undefined;
}

const TARGET_NAMES = new Set(['local', 'sandbox', 'production']);

/** The MTurk target a payment was confirmed for: `{ name, endpoint }` (see types.ts). */
export function checkTargetBinding(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object { name, endpoint }';
  }
  const { name, endpoint, ...rest } = value as Record<string, unknown>;
  if (typeof name !== 'string' || !TARGET_NAMES.has(name)) {
    return `name must be local, sandbox or production, got ${JSON.stringify(name)}`;
  }
  if (typeof endpoint !== 'string' || !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    return `endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`;
  }
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `has unknown fields: ${unknown.join(', ')}`;
  return undefined;
}

/** MTurk's NotifyWorkers limits: Subject 1-200, MessageText 1-4096 characters. */
export const NOTIFY_SUBJECT_MAX_LENGTH = 200;
export const NOTIFY_MESSAGE_MAX_LENGTH = 4096;

export function checkBonusNotification(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object { subject, message? }';
  }
  const { subject, message, ...rest } = value as Record<string, unknown>;
  if (typeof subject !== 'string' || subject.trim().length === 0) {
    return 'subject must be a non-empty string';
  }
  if (subject.length > NOTIFY_SUBJECT_MAX_LENGTH) {
    return `subject must be at most ${NOTIFY_SUBJECT_MAX_LENGTH} characters, got ${subject.length}`;
  }
  const subjectText = describeForbiddenText(subject);
  if (subjectText) return `subject ${subjectText}`;
  if (message !== undefined) {
    if (typeof message !== 'string' || message.trim().length === 0) {
      return 'message must be a non-empty string';
    }
    if (message.length > NOTIFY_MESSAGE_MAX_LENGTH) {
      return `message must be at most ${NOTIFY_MESSAGE_MAX_LENGTH} characters, got ${message.length}`;
    }
    const messageText = describeForbiddenText(message);
    if (messageText) return `message ${messageText}`;
  }
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `has unknown fields: ${unknown.join(', ')}`;
  return undefined;
}

export function checkRequesterFeedback(value: string): string | undefined {
  if (value.length > REQUESTER_FEEDBACK_MAX_LENGTH) {
    return `must be at most ${REQUESTER_FEEDBACK_MAX_LENGTH} characters, got ${value.length}`;
  }
  return describeForbiddenText(value);
}

export function checkBonusKey(value: string): string | undefined {
  if (value.length === 0 || value.length > BONUS_KEY_MAX_LENGTH) {
    return `must be 1-${BONUS_KEY_MAX_LENGTH} characters, got ${value.length}`;
  }
  if (!BONUS_KEY_PATTERN.test(value)) {
    return `may contain only letters, digits, "_", "." and "-", got ${JSON.stringify(value)}`;
  }
  return undefined;
}

export function checkUniqueRequestToken(value: string): string | undefined {
  if (value.length === 0 || value.length > UNIQUE_REQUEST_TOKEN_MAX_LENGTH) {
    return `must be 1-${UNIQUE_REQUEST_TOKEN_MAX_LENGTH} characters, got ${value.length}`;
  }
  if (!TOKEN_PATTERN.test(value)) return 'may contain only visible ASCII characters (no spaces)';
  return undefined;
}

export type BonusAmountCheck = { ok: true; cents: number } | { ok: false; message: string };

/** Syntax per money.ts, then 0 < amount ≤ cap. */
export function checkBonusAmount(value: string, limits: ValidationLimits = {}): BonusAmountCheck {
  const maxBonusCents = resolveMaxBonusCents(limits);
  const parsed = tryParseDollarsToCents(value);
  if (!parsed.ok) return parsed;
  if (parsed.cents <= 0) return { ok: false, message: `must be more than 0.00, got "${value}"` };
  if (parsed.cents > maxBonusCents) {
    return {
      ok: false,
      message:
        `must be at most ${formatCents(maxBonusCents)} (the configured maximum bonus), ` +
        `got ${formatCents(parsed.cents)}`,
    };
  }
  return { ok: true, cents: parsed.cents };
}

function resolveMaxBonusCents(limits: ValidationLimits): number {
  const max = limits.maxBonusCents ?? DEFAULT_MAX_BONUS_CENTS;
  if (!Number.isSafeInteger(max) || max <= 0) {
    // A configuration mistake, not bad input: fail loudly rather than let every bonus through.
    throw new RangeError(`maxBonusCents must be a positive integer, got ${String(max)}`);
  }
  return max;
}

// ---------------------------------------------------------------------------------------------
// Request shapes: which fields, of which type, checked by which rule.
//
// Plain code rather than a schema library on purpose: this module runs in Temporal's workflow
// sandbox, where every payment workflow evaluates its imports afresh (the reused V8 context
// keeps a module cache per workflow). With zod that was about 15 % of the workflow thread's
// time and a copy of zod's classes per cached workflow (bench/README.md).
// ---------------------------------------------------------------------------------------------

type FieldRule =
  | {
      kind: 'text';
      required: boolean;
      rule: Rule;
      /** The value as sent (e.g. trimmed); undefined drops the field. Default: as given. */
      normalise?: Normalise;
    }
  | { kind: 'amount'; required: true }
  | { kind: 'flag'; required: false }
  | { kind: 'target'; required: false }
  | { kind: 'notify'; required: false };

const TYPE_MESSAGES: Record<FieldRule['kind'], string> = {
  text: 'must be a string',
  amount: 'must be a string of dollars such as "1.20"',
  flag: 'must be true or false',
  target: 'must be an object { name, endpoint }',
  notify: 'must be an object { subject, message? }',
};

type Rule = (value: string) => string | undefined;
type Normalise = (value: string) => string | undefined;
const required = (rule: Rule, normalise?: Normalise): FieldRule => ({
  kind: 'text',
  required: true,
  rule,
  normalise,
});
const optional = (rule: Rule, normalise?: Normalise): FieldRule => ({
  kind: 'text',
  required: false,
  rule,
  normalise,
});
/** Reason as sent: trimmed (checkReason has refused an empty one). */
const REASON = required(checkReason, (value) => value.trim());
/** A caller's reason: as REASON, and not ending like a keyed bonus's reason. */
const PAYMENT_REASON = required(checkPaymentReason, (value) => value.trim());
const TARGET: FieldRule = { kind: 'target', required: false };
/** Feedback as sent: trimmed; empty feedback becomes absent. */
const FEEDBACK = optional(checkRequesterFeedback, (value) => value.trim() || undefined);
const FLAG: FieldRule = { kind: 'flag', required: false };
/** Becomes `bonusAmount` ("5" → "5.00") and `bonusCents` (500). */
const AMOUNT: FieldRule = { kind: 'amount', required: true };

const APPROVE_AND_BONUS_FIELDS: Record<string, FieldRule> = {
  assignmentId: required(checkAssignmentId),
  workerId: required(checkWorkerId),
  bonusAmount: AMOUNT,
  reason: PAYMENT_REASON,
  requesterFeedback: FEEDBACK,
  overrideRejection: FLAG,
  bonusKey: optional(checkBonusKey),
  skipApproval: FLAG,
  target: TARGET,
  notify: { kind: 'notify', required: false },
};

const SEND_BONUS_FIELDS: Record<string, FieldRule> = {
  workerId: required(checkWorkerId),
  assignmentId: required(checkAssignmentId),
  bonusAmount: AMOUNT,
  reason: REASON,
  uniqueRequestToken: required(checkUniqueRequestToken),
  priorPaymentPossible: FLAG,
  bonusKey: optional(checkBonusKey),
  target: TARGET,
};

const APPROVE_ASSIGNMENT_FIELDS: Record<string, FieldRule> = {
  assignmentId: required(checkAssignmentId),
  requesterFeedback: FEEDBACK,
  overrideRejection: FLAG,
  target: TARGET,
};

/**
 * Checks `input` against `fields`: every problem, in field order, then unknown fields. On
 * success returns the fields that are set, normalised, in field order (an amount as
 * `bonusAmount` and `bonusCents`).
 */
function checkFields<T>(
  input: unknown,
  fields: Record<string, FieldRule>,
  limits: ValidationLimits,
): CheckResult<T> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ field: 'input', message: 'must be an object' }] };
  }
  const record = input as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  const value: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(fields)) {
    const given = record[field];
    if (given === undefined) {
      if (rule.required) issues.push({ field, message: 'is required' });
      continue;
    }
    if (rule.kind === 'flag') {
      if (typeof given === 'boolean') value[field] = given;
      else issues.push({ field, message: TYPE_MESSAGES.flag });
      continue;
    }
    if (rule.kind === 'notify') {
      const message = checkBonusNotification(given);
      if (message === undefined) {
        const { subject, message: text } = given as BonusNotification;
        value[field] = text === undefined ? { subject } : { subject, message: text };
      } else issues.push({ field, message });
      continue;
    }
    if (rule.kind === 'target') {
      const message = checkTargetBinding(given);
      if (message === undefined) {
        const { name, endpoint } = given as MTurkTargetBinding;
        value[field] = { name, endpoint: endpoint.replace(/\/+$/, '') };
      } else issues.push({ field, message });
      continue;
    }
    if (typeof given !== 'string') {
      issues.push({ field, message: TYPE_MESSAGES[rule.kind] });
    } else if (rule.kind === 'amount') {
      const amount = checkBonusAmount(given, limits);
      if (amount.ok) {
        value[field] = formatCents(amount.cents);
        value.bonusCents = amount.cents;
      } else issues.push({ field, message: amount.message });
    } else {
      const message = rule.rule(given);
      if (message !== undefined) issues.push({ field, message });
      else value[field] = rule.normalise ? rule.normalise(given) : given;
    }
  }
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(fields, key)) issues.push({ field: key, message: 'is not a known field' });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: withoutUndefined(value) as T };
}

/**
 * Drops keys whose value is undefined, so results serialise the same everywhere (Temporal
 * payloads, JSON in other languages) and `'key' in value` means the caller set it.
 */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function orThrow<T>(result: CheckResult<T>): T {
  if (!result.ok) throw invalidBonusRequest(result.issues);
  return result.value;
}

export function checkApproveAndBonusInput(
  input: unknown,
  limits: ValidationLimits = {},
): CheckResult<ValidatedApproveAndBonusInput> {
  const checked = checkFields<ValidatedApproveAndBonusInput>(
    input,
    APPROVE_AND_BONUS_FIELDS,
    limits,
  );
  if (!checked.ok) return checked;
  // The preview must refuse what the payment would: a keyed reason is longer on MTurk.
  const sent = reasonSentToMTurk(checked.value.reason, checked.value.bonusKey);
  if (sent.length > REASON_MAX_LENGTH) {
    return {
      ok: false,
      issues: [
        {
          field: 'reason',
          message: `with the bonus key appended it is ${sent.length} characters, at most ${REASON_MAX_LENGTH}`,
        },
      ],
    };
  }
  return checked;
}

export function checkSendBonusInput(
  input: unknown,
  limits: ValidationLimits = {},
): CheckResult<ValidatedSendBonusInput> {
  return checkFields(input, SEND_BONUS_FIELDS, limits);
}

export function checkApproveAssignmentInput(input: unknown): CheckResult<ApproveAssignmentInput> {
  return checkFields(input, APPROVE_ASSIGNMENT_FIELDS, {});
}

/**
 * Validates and normalises a workflow input ("5" → "5.00", reason trimmed, empty feedback
 * dropped). Throws `invalidBonusRequest(issues)`: a non-retryable ApplicationFailure of type
 * InvalidBonusRequest listing every problem by field.
 */
export function validateApproveAndBonusInput(
  input: unknown,
  limits: ValidationLimits = {},
): ValidatedApproveAndBonusInput {
  return orThrow(checkApproveAndBonusInput(input, limits));
}

/** As {@link validateApproveAndBonusInput}, for the sendBonus activity's input. */
export function validateSendBonusInput(
  input: unknown,
  limits: ValidationLimits = {},
): ValidatedSendBonusInput {
  return orThrow(checkSendBonusInput(input, limits));
}

/** As {@link validateApproveAndBonusInput}, for the approveAssignment activity's input. */
export function validateApproveAssignmentInput(input: unknown): ApproveAssignmentInput {
  return orThrow(checkApproveAssignmentInput(input));
}

// ---------------------------------------------------------------------------------------------
// CSV rows.
// ---------------------------------------------------------------------------------------------

const ROW_TEXT_FIELDS = ['assignmentId', 'workerId', 'bonusAmount', 'reason'] as const;
const ROW_OPTIONAL_TEXT_FIELDS = ['requesterFeedback', 'bonusKey'] as const;
const ROW_FLAG_FIELDS = ['overrideRejection', 'skipApproval'] as const;

/**
 * Checks one CSV row (column name → cell) as an approve-and-bonus request, without throwing,
 * so the CSV command can report every bad row at once.
 *
 * CSV-specific leniency, and only this: columns other than the request's fields are ignored
 * (exports from MTurk carry many); an empty cell in an optional column means "not set"; flag
 * columns accept "true"/"false" (any case). Required cells are checked as strictly as
 * everywhere else: " 5" is refused, not trimmed.
 */
export function checkBonusRow(
  row: unknown,
  limits: ValidationLimits = {},
): CheckResult<ValidatedApproveAndBonusInput> {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return { ok: false, issues: [{ field: 'row', message: 'must be an object of columns' }] };
  }
  const cells = row as Record<string, unknown>;
  const request: Record<string, unknown> = {};
  for (const field of ROW_TEXT_FIELDS) {
    if (field in cells) request[field] = cells[field];
  }
  for (const field of ROW_OPTIONAL_TEXT_FIELDS) {
    const cell = cells[field];
    if (cell !== undefined && cell !== '') request[field] = cell;
  }
  for (const field of ROW_FLAG_FIELDS) {
    const cell = cells[field];
    if (typeof cell === 'string') {
      const normalised = cell.trim().toLowerCase();
      if (normalised === 'true') request[field] = true;
      else if (normalised === 'false') request[field] = false;
      else if (normalised !== '') request[field] = cell; // let the schema report it
    } else if (cell !== undefined) {
      request[field] = cell;
    }
  }
  return checkApproveAndBonusInput(request, limits);
}
