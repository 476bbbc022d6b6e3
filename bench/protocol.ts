/** Messages between the harness and its child processes (bench/child.ts). */

export interface BaselineRow {
  assignmentId: string;
  workerId: string;
  bonusAmount: string;
  reason: string;
}

export type ChildConfig =
  | {
      role: 'worker' | 'floor';
      address: string;
      namespace: string;
      taskQueue: string;
      emulatorUrl: string;
      /** A workflow bundle written by bundleWorkflowCode. */
      bundlePath: string;
      maxTaskQueueActivitiesPerSecond?: number;
      /** Extra Worker options (numbers only), for experiments with the defaults. */
      workerOptions?: Record<string, number>;
    }
  | { role: 'baseline'; emulatorUrl: string; concurrency: number };

/** How a child process is started: node flags and environment (experiments with memory). */
export interface ChildLaunch {
  nodeArgs?: string[];
  /** A variable set to undefined is removed from the child's environment. */
  env?: Record<string, string | undefined>;
}

export type ParentMessage = { type: 'run'; rows: BaselineRow[] } | { type: 'stop' };

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | {
      type: 'done';
      startedAt: number;
      finishedAt: number;
      /** Per row, when its bonus call returned (ms since epoch). */
      completedAt: number[];
      failures: number;
      firstError?: string;
    }
  | {
      type: 'stopped';
      /** When each activity started (ms since epoch); workers only. */
      activityStarts: number[];
      /** process.resourceUsage().maxRSS, as a cross-check of /proc VmHWM. */
      maxRssMB: number;
      /** process.memoryUsage() in MB at the highest sampled RSS (main thread's heap only). */
      memory?: Record<string, number>;
    }
  | { type: 'error'; message: string };
