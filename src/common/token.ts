import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * The MTurk `UniqueRequestToken` of one bonus payment.
 *
 * `tm1-<generation>-<48 hex chars of sha256(workflowId + "\n" + bonusKey)>` (at most 64 chars).
 * It depends only on the workflow ID, the bonus key and the token generation, so it is the
 * same on every activity retry, on another worker after a crash, after `temporal workflow
 * reset` and after continue-as-new: MTurk then refuses a second payment within its 24-hour
 * token memory. The generation moves only after MTurk answered the current token's call with a
 * refusal that means nothing was paid (insufficient funds, a validation refusal), or when an
 * operator explicitly asks for a new token; never after a lost answer, a timeout or a
 * duplicate-token answer.
 *
 * Pure and deterministic, so workflow code may call it.
 */
/**
 * Largest generation: "tm1-999999-" plus 48 hex characters is 59, inside MTurk's 64. A
 * generation moves once per definitive refusal (e.g. each insufficient-funds answer), so this is
 * years of hourly funds re-checks.
 */
export const MAX_TOKEN_GENERATION = 999_999;

export function bonusRequestToken(
  workflowId: string,
  bonusKey: string | undefined,
  generation: number,
): string {
  if (!Number.isInteger(generation) || generation < 0 || generation > MAX_TOKEN_GENERATION) {
    throw new RangeError(
      `token generation must be an integer 0..${MAX_TOKEN_GENERATION}, got ${generation}`,
    );
  }
  const digest = bytesToHex(sha256(utf8ToBytes(`${workflowId}\n${bonusKey ?? ''}`)));
  return `tm1-${generation}-${digest.slice(0, 48)}`;
}
