import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import {
  ALL_SEARCH_ATTRIBUTES,
  MTurkAssignmentId,
  MTurkBonusState,
  MTurkWorkerId,
} from './common/search-attributes';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from './common/errors';
import { normaliseText } from './common/ledger-match';
import { parseDollarsToCents, tryParseDollarsToCents } from './common/money';
import { DEFAULT_TASK_QUEUE } from './temporal-config';
import type { ApproveAndBonusInput, MTurkTargetBinding, PaymentStatus } from './common/types';
import {
  validateApproveAndBonusInput,
  type ValidatedApproveAndBonusInput,
} from './common/validation';
import { bonusWorkflowId } from './common/workflow-ids';
import type { approveAndBonus, ApproveAndBonusOptions } from './workflows';
import { queryWithin } from './query-within';

export { bonusWorkflowId };

export interface PayBonusOptions {
  /** Task queue of a worker running temporal-mturk (default "temporal-mturk"). */
  taskQueue?: string;
  /** Workflow tuning (cap, funds re-check interval). */
  workflowOptions?: ApproveAndBonusOptions;
  /** Largest bonus accepted, dollars; checked here before anything starts (default "100.00"). */
  maxBonusAmount?: string;
  /**
   * The MTurk this payment is meant for (targetBinding(config)): a worker talking to another one
   * refuses it (TargetMismatch) before any call. Same as the input's `target`.
   */
  target?: MTurkTargetBinding;
}

const registeredCache = new WeakMap<Client, Promise<boolean>>();

/** Whether the namespace has our search attributes, asked once per client. */
export function searchAttributesRegistered(client: Client): Promise<boolean> {
  let known = registeredCache.get(client);
  if (!known) {
    known = client.connection.operatorService
      .listSearchAttributes({ namespace: client.options.namespace })
      .then((res) => ALL_SEARCH_ATTRIBUTES.every((k) => k.name in (res.customAttributes ?? {})))
      .catch(() => false); // e.g. no operator permission on Temporal Cloud: just don't use them
    registeredCache.set(client, known);
  }
  return known;
}

/**
 * Starts the `approveAndBonus` workflow for one payment, or returns the handle of the one that
 * already exists. The workflow ID comes from the assignment (and bonus key), so a payment is
 * started at most once: a second call while it runs attaches to it (USE_EXISTING), a call after
 * it completed returns the completed run (REJECT on completed IDs). Only a run that failed,
 * was terminated or cancelled may be started again, and then with a ledger lookup first.
 *
 * Throws an `ApplicationFailure` of type `InvalidBonusRequest` for bad input, before any call.
 */
export async function payBonus(
  client: Client,
  input: ApproveAndBonusInput,
  options: PayBonusOptions = {},
): Promise<WorkflowHandle<typeof approveAndBonus>> {
  const maxBonusAmount = options.maxBonusAmount ?? options.workflowOptions?.maxBonusAmount;
  const request = validatedRequest(input, options, maxBonusAmount);
  const workflowId = bonusWorkflowId(request.assignmentId, request.bonusKey);
  const handle = client.workflow.getHandle<typeof approveAndBonus>(workflowId);

  const previousRun = await describeOrUndefined(handle);
  if (previousRun === 'COMPLETED' || previousRun === 'RUNNING') {
    // Attaching to a payment that asks something else would hand back the wrong payment.
    await refuseOtherPayment(client, workflowId, request);
    return handle;
  }
  // A restart after a failed, terminated or cancelled run continues from the token generation
  // that run reached, so it never sends a token MTurk may have used up on a refused call.
  const firstTokenGeneration =
    previousRun === undefined ? undefined : await nextRunTokenGeneration(client, handle);
  const start = { workflowId, request, maxBonusAmount, firstTokenGeneration };
  try {
    return await startPayment(client, start, options);
  } catch (err) {
    // Completed between our describe and start: the payment exists, hand it back.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      await refuseOtherPayment(client, workflowId, request);
      return handle;
    }
    throw err;
  }
}

/** The input with the options' target and cap applied, checked; throws InvalidBonusRequest. */
function validatedRequest(
  input: ApproveAndBonusInput,
  options: PayBonusOptions,
  maxBonusAmount: string | undefined,
): ValidatedApproveAndBonusInput {
  return validateApproveAndBonusInput(
    options.target ? { ...input, target: options.target } : input,
    {
      maxBonusCents: maxBonusAmount === undefined ? undefined : parseDollarsToCents(maxBonusAmount),
    },
  );
}

/** What payBonus decided before starting a new run of the payment's workflow. */
interface PaymentStart {
  workflowId: string;
  request: ValidatedApproveAndBonusInput;
  maxBonusAmount: string | undefined;
  firstTokenGeneration: number | undefined;
}

async function startPayment(
  client: Client,
  start: PaymentStart,
  options: PayBonusOptions,
): Promise<WorkflowHandle<typeof approveAndBonus>> {
  const { request, maxBonusAmount, firstTokenGeneration } = start;
  const searchAttributes = await paymentSearchAttributes(client, request);
  const { bonusCents: _cents, ...workflowInput } = request;
  return await client.workflow.start<typeof approveAndBonus>('approveAndBonus', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: start.workflowId,
    args: [
      {
        ...workflowInput,
        options: {
          ...options.workflowOptions,
          maxBonusAmount,
          ...(firstTokenGeneration !== undefined && { firstTokenGeneration }),
        },
      },
    ],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    typedSearchAttributes: searchAttributes,
  });
}

/** The payment's search attributes, none when the namespace has not registered ours. */
async function paymentSearchAttributes(
  client: Client,
  request: ValidatedApproveAndBonusInput,
): Promise<SearchAttributePair[]> {
  if (!(await searchAttributesRegistered(client))) return [];
  // Search attributes are stored unencrypted: with a payload codec on, keep the worker ID out.
  const encrypting = client.options.loadedDataConverter.payloadCodecs.length > 0;
  return [
    { key: MTurkAssignmentId, value: request.assignmentId },
    ...(encrypting ? [] : [{ key: MTurkWorkerId, value: request.workerId }]),
    { key: MTurkBonusState, value: 'started' },
  ];
}

const QUERY_DEADLINE_MS = 10_000;

/** The generation a new run should use, from the last run's status (a worker replays it). */
async function nextRunTokenGeneration(
  client: Client,
  handle: WorkflowHandle<typeof approveAndBonus>,
): Promise<number | undefined> {
  try {
    const status = await queryWithin<PaymentStatus>(client, handle, QUERY_DEADLINE_MS, 'status');
    return status.nextRunTokenGeneration ?? status.tokenGeneration;
  } catch {
    // No worker to replay it, or a run of an older version: generation 0. At worst MTurk
    // answers "token used" and the payment waits as unconfirmed; it never pays twice.
    return undefined;
  }
}

/**
 * Throws PaymentConflict when the workflow holding `workflowId` pays another worker, amount or
 * reason than `request`: read from its input (the first event of its current run).
 */
async function refuseOtherPayment(
  client: Client,
  workflowId: string,
  request: ValidatedApproveAndBonusInput,
): Promise<void> {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const started = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payloads = started?.input?.payloads ?? [];
  if (payloads.length === 0) return;
  // Decoded as the worker would: codecs (e.g. encryption) in reverse, then the converter.
  const converter = client.options.loadedDataConverter;
  let decoded = payloads.slice(0, 1);
  for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  const existing: unknown = converter.payloadConverter.fromPayload(decoded[0]!);
  const other = existing as Partial<ApproveAndBonusInput> | undefined;
  if (!other || typeof other !== 'object') return;
  const differences: string[] = [];
  if (other.workerId !== request.workerId) {
    differences.push(`worker ${String(other.workerId)} (asked ${request.workerId})`);
  }
  const otherCents =
    typeof other.bonusAmount === 'string' ? tryParseDollarsToCents(other.bonusAmount) : undefined;
  if (!otherCents?.ok || otherCents.cents !== request.bonusCents) {
    differences.push(`amount ${String(other.bonusAmount)} (asked ${request.bonusAmount})`);
  }
  if (
    typeof other.reason !== 'string' ||
    normaliseText(other.reason) !== normaliseText(request.reason)
  ) {
    differences.push(
      `reason ${JSON.stringify(other.reason)} (asked ${JSON.stringify(request.reason)})`,
    );
  }
  if (differences.length === 0) return;
  throw ApplicationFailure.create({
    type: FailureType.PaymentConflict,
    message:
      `Payment ${workflowId} already exists with ${differences.join(', ')}; nothing new was ` +
      'started (a deliberate second bonus for the assignment needs a bonusKey)',
    nonRetryable: true,
  });
}

/** `payBonus` and wait for the payment's result (the first run's result when it already ran). */
export async function payBonusAndWait(
  client: Client,
  input: ApproveAndBonusInput,
  options: PayBonusOptions = {},
) {
  const handle = await payBonus(client, input, options);
  return handle.result();
}

async function describeOrUndefined(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    return (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
