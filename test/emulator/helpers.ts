import { MTurkClient } from '@aws-sdk/client-mturk';

export function client(url: string, maxAttempts = 1): MTurkClient {
  return new MTurkClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
}

export interface SdkError extends Error {
  TurkErrorCode?: string;
  $fault?: string;
  $metadata?: { requestId?: string; httpStatusCode?: number; attempts?: number };
}

/** Await a promise that must reject; return the error. */
export async function failure(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (e) {
    return e as SdkError;
  }
  throw new Error('expected the call to fail');
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
