/**
 * The recorded histories in test/histories (see scripts/record-history.ts), as the JSON of
 * `temporal workflow show -o json`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const HISTORIES = path.join(__dirname, '..', 'histories');

/** A keyed payment from before patched('bonus-key-in-reason'): its first run, ending in continue-as-new. */
export const PREPATCH_KEYED_CAN_HISTORY = 'approve-and-bonus-keyed-prepatch-continued-as-new.json';

interface PayloadJSON {
  metadata?: Record<string, string>;
  data?: string;
}

export interface HistoryEventJSON {
  eventId: string;
  eventType: string;
  workflowExecutionStartedEventAttributes?: { workflowId?: string };
  workflowExecutionContinuedAsNewEventAttributes?: { input?: { payloads?: PayloadJSON[] } };
}

export interface HistoryJSON {
  events: HistoryEventJSON[];
}

export function loadHistory(file: string): HistoryJSON {
  return JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as HistoryJSON;
}

/** The workflow ID the history was recorded under. */
export function recordedWorkflowId(history: HistoryJSON): string {
  const id = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId;
  if (!id) throw new Error('the history does not start with WorkflowExecutionStarted');
  return id;
}

/** The input the run handed to its next run: the argument of its last event, a continue-as-new. */
export function continuedAsNewInput<T>(history: HistoryJSON): T {
  const last = history.events[history.events.length - 1];
  const payload = last?.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) throw new Error('the history does not end with a continue-as-new');
  const encoding = Buffer.from(payload.metadata?.encoding ?? '', 'base64').toString();
  if (encoding !== 'json/plain') throw new Error(`payload encoding ${encoding}, not json/plain`);
  return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as T;
}
