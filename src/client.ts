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
} from './search-attributes';
import { parseDollarsToCents } from './money';
import { DEFAULT_TASK_QUEUE } from './temporal-config';
import type { ApproveAndBonusInput } from './types';
import { validateApproveAndBonusInput } from './validation';
import { bonusWorkflowId } from './workflow-ids';
import type { approveAndBonus, ApproveAndBonusOptions } from './workflows';

export { bonusWorkflowId };

export interface PayBonusOptions {
  /** Task queue of a worker running temporal-mturk (default "temporal-mturk"). */
  taskQueue?: string;
  /** Workflow tuning (cap, funds re-check interval). */
  workflowOptions?: ApproveAndBonusOptions;
  /** Largest bonus accepted, dollars; checked here before anything starts (default "100.00"). */
  maxBonusAmount?: string;
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
  const request = validateApproveAndBonusInput(input, {
    maxBonusCents: maxBonusAmount === undefined ? undefined : parseDollarsToCents(maxBonusAmount),
  });
  const workflowId = bonusWorkflowId(request.assignmentId, request.bonusKey);
  const handle = client.workflow.getHandle<typeof approveAndBonus>(workflowId);

  const previousRun = await describeOrUndefined(handle);
  if (previousRun === 'COMPLETED') return handle;

  // Search attributes are stored unencrypted: with a payload codec on, keep the worker ID out.
  const encrypting = client.options.loadedDataConverter.payloadCodecs.length > 0;
  const searchAttributes: SearchAttributePair[] = (await searchAttributesRegistered(client))
    ? [
        { key: MTurkAssignmentId, value: request.assignmentId },
        ...(encrypting ? [] : [{ key: MTurkWorkerId, value: request.workerId }]),
        { key: MTurkBonusState, value: 'started' },
      ]
    : [];
  const { bonusCents: _cents, ...workflowInput } = request;
  try {
    return await client.workflow.start<typeof approveAndBonus>('approveAndBonus', {
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      args: [
        {
          ...workflowInput,
          options: {
            ...options.workflowOptions,
            maxBonusAmount,
            lookUpFirst: previousRun !== undefined,
          },
        },
      ],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: searchAttributes,
    });
  } catch (err) {
    // Completed between our describe and start: the payment exists, hand it back.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return handle;
    throw err;
  }
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
