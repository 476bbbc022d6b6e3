import { MTurkClient } from '@aws-sdk/client-mturk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index';

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

export interface EmulatorBed {
  emu: RunningEmulator;
  /** An SDK client of the emulator, without retries (maxAttempts 1). */
  mturk: MTurkClient;
}

/**
 * A file's emulator on a random port and an SDK client of it, for all its tests; emptied before
 * each test (then `prepare`, e.g. a seed). Read the fields inside tests and hooks.
 */
export function useEmulator(
  prepare: (emu: RunningEmulator) => void = () => undefined,
): EmulatorBed {
  const bed = {} as EmulatorBed;
  beforeAll(async () => {
    bed.emu = await startEmulator({ port: 0 });
    bed.mturk = client(bed.emu.url);
  });
  afterAll(async () => {
    bed.mturk?.destroy();
    await bed.emu?.stop();
  });
  beforeEach(() => {
    bed.emu.reset();
    prepare(bed.emu);
  });
  return bed;
}
