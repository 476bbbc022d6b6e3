/**
 * Children never outlive the process that started them, even when it dies of an uncaught
 * error: a dev server or worker left behind holds ports and state files for the next run.
 */
import type { ChildProcess } from 'node:child_process';

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILLs `child` when this process exits, unless it has exited by then. */
export function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}
