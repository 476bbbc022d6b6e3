import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[bytes[i]! % 36];
  return out;
}

/** An MTurk-looking entity ID (HIT, HIT type, assignment): 30 uppercase alphanumerics. */
export function newEntityId(): string {
  return randomChars(30);
}

/** An MTurk-looking worker ID: "A" followed by 13 uppercase alphanumerics. */
export function newWorkerId(): string {
  return 'A' + randomChars(13);
}

/** A request ID in the UUID format AWS uses for x-amzn-RequestId. */
export function newRequestId(): string {
  return randomUUID();
}
