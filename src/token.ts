import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * The MTurk `UniqueRequestToken` of one bonus payment.
 *
 * `tm1-<generation>-<48 hex chars of sha256(workflowId + "\n" + bonusKey)>` (at most 64 chars).
 * It depends only on the workflow ID, the bonus key and the token generation, so it is the
 * same on every activity retry, on another worker after a crash, after `temporal workflow
 * reset` and after continue-as-new: MTurk then refuses a second payment within its 24-hour
 * token memory. The generation only moves when MTurk says a token was used but lists no
 * payment for it (a token burnt by a failed call), never on an ordinary retry.
 *
 * Pure and deterministic, so workflow code may call it.
 */
export function bonusRequestToken(
  workflowId: string,
  bonusKey: string | undefined,
  generation: number,
): string {
  if (!Number.isInteger(generation) || generation < 0 || generation > 9999) {
    throw new RangeError(`token generation must be an integer 0..9999, got ${generation}`);
  }
  const digest = bytesToHex(sha256(utf8ToBytes(`${workflowId}\n${bonusKey ?? ''}`)));
  return `tm1-${generation}-${digest.slice(0, 48)}`;
}
