/**
 * NextToken of the list operations: the position to go on from, bound to the listing it came
 * from (`key`), so that a token is refused by any other listing.
 */
import { requestError } from './errors';

/** MaxResults when a list call gives none. */
export const DEFAULT_PAGE_SIZE = 10;

export function encodePageToken(index: number, key: string): string {
  return Buffer.from(JSON.stringify({ i: index, k: key })).toString('base64url');
}

export function decodePageToken(token: string, key: string): number {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      i: unknown;
      k: unknown;
    };
    if (v.k === key && typeof v.i === 'number' && Number.isInteger(v.i) && v.i >= 0) return v.i;
  } catch {
    // fall through
  }
  throw requestError(
    'The pagination token is invalid.',
    'AWS.MechanicalTurk.InvalidParameterValue',
  );
}
