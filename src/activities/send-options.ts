import { Context } from '@temporalio/activity';

/**
 * Options for `client.send` inside an activity: the activity's cancellation signal, which
 * Temporal aborts when the attempt is cancelled or times out. A call still waiting for its turn
 * in the MTurk client's rate limiter then is never sent (the SDK checks the signal before
 * sending), instead of going out after Temporal has already started the next attempt; one in
 * flight is abandoned, like any lost answer (the next attempt looks the ledger up first).
 * Outside an activity (tests calling the functions directly): no signal.
 */
export function sendOptions(): { abortSignal?: AbortSignal } {
  try {
    return { abortSignal: Context.current().cancellationSignal };
  } catch {
    return {};
  }
}
