/**
 * Which listings of MTurk's ledger an audit makes, and making them: by HIT where the HITs are
 * known (given, or in MTurk's results file), one listing per 100 bonuses instead of one per
 * assignment; other rows by assignment.
 */
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { checkHitId } from '../common/validation';
import type { AskedBonus } from './audit-check';
import {
  listAssignmentIds,
  listBonusPayments,
  type LedgerScope,
  type ListedBonus,
  type ScopeListing,
} from './audit-ledger';
import { auditProgress, type AuditProgress } from './audit-progress';
import { validLines, type BonusFile } from './csv-input';
import { CliError, ExitCode } from './exit-codes';
import type { CliIO } from './io';
import { MAX_IN_FLIGHT, mapPaced, type RetryOptions } from './paced';

export interface LedgerRead {
  listed: ListedBonus[];
  unknown: { row: AskedBonus; message: string }[];
  hitOfAssignment: Map<string, string>;
  scopes: { hits: number; assignments: number };
  calls: number;
}

export async function readLedger(
  client: MTurkClient,
  file: BonusFile | undefined,
  asked: AskedBonus[] | undefined,
  hitArgs: string[],
  retry: RetryOptions | undefined,
  io: CliIO,
): Promise<LedgerRead> {
  const hitOfAssignment = hitsOfResultsFile(file);
  const fileHits = new Set(hitOfAssignment.values());
  const placingCalls =
    asked && hitArgs.length > 0
      ? await placeRowsUnderHits(client, asked, hitArgs, hitOfAssignment, retry)
      : 0;
  const scopes = firstScopes(hitArgs, fileHits, asked, hitOfAssignment);
  const progress = auditProgress(io, scopes.length);
  const listing = new LedgerListing(client, retry, progress, hitArgs, asked, hitOfAssignment);
  try {
    const again = await listing.round(scopes);
    if (again.length > 0) await listing.round(again);
  } finally {
    progress.stop();
  }
  return {
    listed: listing.listed,
    unknown: listing.unknown,
    hitOfAssignment,
    scopes: listing.counts,
    calls: placingCalls + listing.calls,
  };
}

/** The HIT of each valid row, where the file names a well-formed one (MTurk's results file). */
function hitsOfResultsFile(file: BonusFile | undefined): Map<string, string> {
  const hitOfAssignment = new Map<string, string>();
  for (const l of file ? validLines(file) : []) {
    const hitId = file?.hitOfLine?.get(l.line);
    if (hitId && !checkHitId(hitId)) hitOfAssignment.set(l.request.assignmentId, hitId);
  }
  return hitOfAssignment;
}

/**
 * Rows of a plain file under a given HIT: which ones, MTurk says (a plain file has no HITId).
 * Adds them to `hitOfAssignment`; returns the calls made.
 */
async function placeRowsUnderHits(
  client: MTurkClient,
  asked: readonly AskedBonus[],
  hitArgs: readonly string[],
  hitOfAssignment: Map<string, string>,
  retry: RetryOptions | undefined,
): Promise<number> {
  let calls = 0;
  const askedIds = new Set(asked.map((r) => r.assignmentId));
  const ids = await mapPaced(hitArgs, MAX_IN_FLIGHT, async (hitId) => {
    const listing = await listAssignmentIds(client, hitId, retry);
    calls += listing.calls;
    return listing.ids;
  });
  ids.forEach((found, i) => {
    const hitId = hitArgs[i]!;
    if (!found)
      throw new CliError(`--hit ${hitId}: MTurk does not know this HIT`, ExitCode.InvalidInput);
    for (const id of found)
      if (askedIds.has(id) && !hitOfAssignment.has(id)) hitOfAssignment.set(id, hitId);
  });
  return calls;
}

/** Every HIT, then every asked assignment no HIT covers. */
function firstScopes(
  hitArgs: readonly string[],
  fileHits: ReadonlySet<string>,
  asked: readonly AskedBonus[] | undefined,
  hitOfAssignment: ReadonlyMap<string, string>,
): LedgerScope[] {
  const hits = [...new Set([...hitArgs, ...fileHits])];
  return [
    ...hits.map((hitId) => ({ hitId })),
    ...byAssignment(
      (asked ?? []).map((r) => r.assignmentId).filter((id) => !hitOfAssignment.has(id)),
    ),
  ];
}

const byAssignment = (ids: Iterable<string>): LedgerScope[] =>
  [...new Set(ids)].map((assignmentId) => ({ assignmentId }));

/** The listings made so far: the bonuses they found, and what MTurk did not know. */
class LedgerListing {
  readonly listed: ListedBonus[] = [];
  readonly unknown: LedgerRead['unknown'] = [];
  readonly counts = { hits: 0, assignments: 0 };
  calls = 0;

  constructor(
    private readonly client: MTurkClient,
    private readonly retry: RetryOptions | undefined,
    private readonly progress: AuditProgress,
    private readonly hitArgs: readonly string[],
    private readonly asked: readonly AskedBonus[] | undefined,
    private readonly hitOfAssignment: Map<string, string>,
  ) {}

  /** Lists every scope; returns the scopes to list in another round. */
  async round(scopes: LedgerScope[]): Promise<LedgerScope[]> {
    const listings = await mapPaced(scopes, MAX_IN_FLIGHT, (scope) => this.list(scope));
    return listings.flatMap((listing, i) => this.settle(scopes[i]!, listing));
  }

  private async list(scope: LedgerScope): Promise<ScopeListing> {
    const listing = await listBonusPayments(this.client, scope, {
      ...this.retry,
      onRetry: (reason, attempt, delayMs) => {
        this.progress.retried();
        this.retry?.onRetry?.(reason, attempt, delayMs);
      },
    });
    this.calls += listing.calls;
    this.progress.done(listing.found ? listing.bonuses.length : 0);
    return listing;
  }

  private settle(scope: LedgerScope, listing: ScopeListing): LedgerScope[] {
    if ('hitId' in scope) this.counts.hits += 1;
    else this.counts.assignments += 1;
    if (listing.found) {
      this.listed.push(...listing.bonuses);
      return [];
    }
    if ('hitId' in scope) return this.unlistedHit(scope.hitId, listing.message);
    for (const row of this.asked ?? []) {
      if (row.assignmentId === scope.assignmentId) {
        this.unknown.push({ row, message: listing.message });
      }
    }
    return [];
  }

  /**
   * A HIT given by --hit must exist; a HIT of the results file MTurk no longer lists (deleted) is
   * asked again per assignment.
   */
  private unlistedHit(hitId: string, message: string): LedgerScope[] {
    if (this.hitArgs.includes(hitId)) {
      throw new CliError(`--hit ${hitId}: ${message}`, ExitCode.InvalidInput);
    }
    const ids = [...this.hitOfAssignment].filter(([, h]) => h === hitId).map(([a]) => a);
    for (const id of ids) this.hitOfAssignment.delete(id);
    this.progress.grow(ids.length);
    return byAssignment(ids);
  }
}
