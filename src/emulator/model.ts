/**
 * Input shapes of the supported operations, after the botocore MTurk model (2017-01-17),
 * and Coral-style validation: wrong JSON types give SerializationException, constraint
 * violations give ValidationException ("1 validation error detected: Value '0.9752' at
 * 'bonusAmount' failed to satisfy constraint: ...").
 */
import { ApiError, serializationError, validationError } from './errors';
import { CURRENCY_PATTERN } from './money';

type FieldType = 'string' | 'integer' | 'boolean' | 'list' | 'any';

interface Field {
  type: FieldType;
  required?: boolean;
  pattern?: RegExp;
  minLen?: number;
  maxLen?: number;
  min?: number;
  max?: number;
  enumValues?: string[];
  /** Lists: bounds on the number of members, and the shape of each (string members only). */
  minItems?: number;
  maxItems?: number;
  items?: Field;
}

const ENTITY_ID: Field = { type: 'string', pattern: /^[A-Z0-9]+$/, minLen: 1, maxLen: 64 };
const CUSTOMER_ID: Field = { type: 'string', pattern: /^A[A-Z0-9]+$/, minLen: 1, maxLen: 64 };
const CURRENCY: Field = { type: 'string', pattern: CURRENCY_PATTERN };
const TOKEN: Field = { type: 'string', minLen: 1, maxLen: 64 };
const PAGE_TOKEN: Field = { type: 'string', minLen: 1, maxLen: 255 };
const RESULT_SIZE: Field = { type: 'integer', min: 1, max: 100 };
const req = (f: Field): Field => ({ ...f, required: true });

export const OPERATIONS: Record<string, Record<string, Field>> = {
  CreateHIT: {
    LifetimeInSeconds: { type: 'integer', required: true },
    AssignmentDurationInSeconds: { type: 'integer', required: true },
    Reward: req(CURRENCY),
    Title: { type: 'string', required: true },
    Description: { type: 'string', required: true },
    MaxAssignments: { type: 'integer' },
    AutoApprovalDelayInSeconds: { type: 'integer' },
    Keywords: { type: 'string' },
    Question: { type: 'string' },
    RequesterAnnotation: { type: 'string' },
    QualificationRequirements: { type: 'list' },
    UniqueRequestToken: TOKEN,
    AssignmentReviewPolicy: { type: 'any' },
    HITReviewPolicy: { type: 'any' },
    HITLayoutId: ENTITY_ID,
    HITLayoutParameters: { type: 'list' },
  },
  GetHIT: { HITId: req(ENTITY_ID) },
  ListAssignmentsForHIT: {
    HITId: req(ENTITY_ID),
    NextToken: PAGE_TOKEN,
    MaxResults: RESULT_SIZE,
    AssignmentStatuses: { type: 'list', enumValues: ['Submitted', 'Approved', 'Rejected'] },
  },
  GetAssignment: { AssignmentId: req(ENTITY_ID) },
  ApproveAssignment: {
    AssignmentId: req(ENTITY_ID),
    RequesterFeedback: { type: 'string' },
    OverrideRejection: { type: 'boolean' },
  },
  RejectAssignment: {
    AssignmentId: req(ENTITY_ID),
    RequesterFeedback: { type: 'string', required: true },
  },
  SendBonus: {
    WorkerId: req(CUSTOMER_ID),
    BonusAmount: req(CURRENCY),
    AssignmentId: req(ENTITY_ID),
    Reason: { type: 'string', required: true },
    UniqueRequestToken: TOKEN,
  },
  ListBonusPayments: {
    HITId: ENTITY_ID,
    AssignmentId: ENTITY_ID,
    NextToken: PAGE_TOKEN,
    MaxResults: RESULT_SIZE,
  },
  GetAccountBalance: {},
  // Limits from the NotifyWorkers API reference: Subject up to 200 characters, MessageText up
  // to 4,096, 1 to 100 worker IDs per call.
  NotifyWorkers: {
    Subject: { type: 'string', required: true, minLen: 1, maxLen: 200 },
    MessageText: { type: 'string', required: true, minLen: 1, maxLen: 4096 },
    WorkerIds: { type: 'list', required: true, minItems: 1, maxItems: 100, items: CUSTOMER_ID },
  },
};

export type Input = Record<string, unknown>;

function memberName(name: string): string {
  // Coral reports members in lower camel case: BonusAmount -> bonusAmount, HITId -> hITId.
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function typeOk(t: FieldType, v: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'list':
      return Array.isArray(v);
    default:
      return true;
  }
}

/** Check `input` against the operation's shape. Throws ApiError; returns the input on success. */
export function validateInput(op: string, input: Input): Input {
  const shape = OPERATIONS[op];
  if (!shape) return input;
  const problems: string[] = [];
  for (const [name, field] of Object.entries(shape)) {
    const problem = memberProblem(name, field, input[name]);
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) throw validationError(problems);
  return input;
}

/** The constraint `v` breaks, if any; a wrong JSON type throws SerializationException at once. */
function memberProblem(name: string, f: Field, v: unknown): string | undefined {
  const at = `at '${memberName(name)}' failed to satisfy constraint: Member must`;
  if (v === undefined || v === null) {
    return f.required ? `Value null ${at} not be null` : undefined;
  }
  if (!typeOk(f.type, v)) {
    throw serializationError(`Unexpected JSON type for member ${name} (expected ${f.type})`);
  }
  if (typeof v === 'string') return stringProblem(v, f, at);
  if (typeof v === 'number') return numberProblem(v, f, at);
  if (Array.isArray(v) && (f.minItems !== undefined || f.maxItems !== undefined)) {
    return sizedListProblem(name, v, f, at);
  }
  if (Array.isArray(v) && f.enumValues) return enumListProblem(v, f.enumValues, at);
  return undefined;
}

function stringProblem(v: string, f: Field, at: string): string | undefined {
  if (f.minLen !== undefined && v.length < f.minLen) {
    return `Value '${v}' ${at} have length greater than or equal to ${f.minLen}`;
  }
  if (f.maxLen !== undefined && v.length > f.maxLen) {
    return `Value '${v}' ${at} have length less than or equal to ${f.maxLen}`;
  }
  if (f.pattern && !f.pattern.test(v)) {
    return `Value '${v}' ${at} satisfy regular expression pattern: ${f.pattern.source}`;
  }
  return undefined;
}

function numberProblem(v: number, f: Field, at: string): string | undefined {
  if (f.min !== undefined && v < f.min) {
    return `Value '${v}' ${at} have value greater than or equal to ${f.min}`;
  }
  if (f.max !== undefined && v > f.max) {
    return `Value '${v}' ${at} have value less than or equal to ${f.max}`;
  }
  return undefined;
}

function sizedListProblem(name: string, v: unknown[], f: Field, at: string): string | undefined {
  const shown = `'[${v.map(String).join(', ')}]'`;
  if (f.minItems !== undefined && v.length < f.minItems) {
    return `Value ${shown} ${at} have length greater than or equal to ${f.minItems}`;
  }
  if (f.maxItems !== undefined && v.length > f.maxItems) {
    return `Value ${shown} ${at} have length less than or equal to ${f.maxItems}`;
  }
  return f.items ? listItemsProblem(name, v, f.items, `Value ${shown} ${at}`) : undefined;
}

/** Coral names every constraint of the member shape when any list item breaks one of them. */
function listItemsProblem(
  name: string,
  v: unknown[],
  item: Field,
  valueAt: string,
): string | undefined {
  if (v.some((x) => !typeOk(item.type, x))) {
    throw serializationError(`Unexpected JSON type for a member of ${name}`);
  }
  const bad = v.filter(
    (x) =>
      typeof x === 'string' &&
      ((item.minLen !== undefined && x.length < item.minLen) ||
        (item.maxLen !== undefined && x.length > item.maxLen) ||
        (item.pattern !== undefined && !item.pattern.test(x))),
  );
  if (bad.length === 0) return undefined;
  return (
    `${valueAt} satisfy constraint: [Member must have length less than or equal to ${item.maxLen}, ` +
    `Member must have length greater than or equal to ${item.minLen}, Member must satisfy regular expression pattern: ${item.pattern?.source}]`
  );
}

function enumListProblem(v: unknown[], allowed: string[], at: string): string | undefined {
  if (v.every((x) => typeof x === 'string' && allowed.includes(x))) return undefined;
  return `Value '[${v.join(', ')}]' ${at} satisfy constraint: [Member must satisfy enum value set: [${allowed.join(', ')}]]`;
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
