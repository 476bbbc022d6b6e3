/**
 * The books of a running review: which assignments it has seen, how each ended, what is in flight
 * and what a continue-as-new carries over. Issues no commands itself: reviewHit awaits, this
 * keeps count.
 */
import { log } from '@temporalio/workflow';
import { describeFailure } from '../common/failures';
import { formatCents, parseDollarsToCents } from '../common/money';
import type {
  ReviewAssignment,
  ReviewCounts,
  ReviewHitCarriedState,
  ReviewHitResult,
  ReviewOutcome,
  ReviewProgress,
} from '../common/review-types';

/** Outcomes listed in full; past this only failures are listed (the counts stay exact). */
const MAX_LISTED_OUTCOMES = 2_000;

function emptyCounts(): ReviewCounts {
  return {
    listed: 0,
    finished: 0,
    approved: 0,
    rejected: 0,
    bonused: 0,
    skipped: 0,
    failed: 0,
    earlier: 0,
  };
}

function count(counts: ReviewCounts, o: ReviewOutcome): void {
  counts.finished += 1;
  if (o.approval) counts.approved += 1;
  if (o.rejection) counts.rejected += 1;
  if (o.bonus) counts.bonused += 1;
  if (o.status === 'skipped') counts.skipped += 1;
  if (o.status === 'failed') counts.failed += 1;
  if (o.earlier) counts.earlier += 1;
}

export class ReviewState {
  private readonly seen: Set<string>;
  private readonly outcomes: ReviewOutcome[];
  /** Counts of successful outcomes not listed (past MAX_LISTED_OUTCOMES). */
  private readonly omitted: ReviewCounts;
  private bonusCents: number;
  private pagesListed: number;
  private state: ReviewProgress['state'] = 'listing';
  private running = 0;
  /** Of the current listing pass, to tell whether another pass is needed. */
  private pagesThisPass = 0;
  private newThisPass = 0;

  constructor(
    private readonly hitId: string,
    carried: ReviewHitCarriedState | undefined,
  ) {
    this.seen = new Set<string>(carried?.seen ?? []);
    this.outcomes = carried?.outcomes ?? [];
    this.omitted = carried?.omitted ?? emptyCounts();
    this.bonusCents = carried?.bonusCents ?? 0;
    this.pagesListed = carried?.pagesListed ?? 0;
  }

  /** Assignments being decided or carried out right now. */
  get inFlight(): number {
    return this.running;
  }

  /** The answer to reviewProgressQuery. */
  progress(): ReviewProgress {
    return {
      hitId: this.hitId,
      state: this.state,
      inFlight: this.running,
      pagesListed: this.pagesListed,
      counts: this.counts(),
    };
  }

  startPass(): void {
    this.pagesThisPass = 0;
    this.newThisPass = 0;
  }

  listing(): void {
    this.state = 'listing';
  }

  pageListed(): void {
    this.pagesThisPass += 1;
    this.pagesListed += 1;
    this.state = 'reviewing';
  }

  isNew(a: ReviewAssignment): boolean {
    return !this.seen.has(a.assignmentId);
  }

  admit(a: ReviewAssignment): void {
    this.seen.add(a.assignmentId);
    this.newThisPass += 1;
  }

  /**
   * One page cannot have shifted under the pass; several may have (reviewing changes statuses),
   * so a pass that found something new over several pages calls for another.
   */
  needsAnotherPass(): boolean {
    return this.pagesThisPass > 1 && this.newThisPass > 0;
  }

  /** Runs one assignment in the window; never throws (failures are outcomes). */
  async track(a: ReviewAssignment, review: (a: ReviewAssignment) => Promise<ReviewOutcome>) {
    this.running += 1;
    try {
      this.record(await review(a));
    } catch (err) {
      this.record({
        assignmentId: a.assignmentId,
        workerId: a.workerId,
        status: 'failed',
        error: describeFailure(err),
      });
    } finally {
      this.running -= 1;
    }
  }

  /** What the next run starts from after continue-as-new. */
  carried(): ReviewHitCarriedState {
    return {
      seen: [...this.seen],
      outcomes: this.outcomes,
      omitted: this.omitted,
      bonusCents: this.bonusCents,
      pagesListed: this.pagesListed,
    };
  }

  complete(): ReviewHitResult {
    this.state = 'completed';
    return {
      hitId: this.hitId,
      counts: this.counts(),
      bonusTotal: formatCents(this.bonusCents),
      outcomes: this.outcomes,
    };
  }

  private counts(): ReviewCounts {
    const c = { ...this.omitted, listed: this.seen.size };
    for (const o of this.outcomes) count(c, o);
    return c;
  }

  private record(o: ReviewOutcome): void {
    if (o.bonus) this.bonusCents += parseDollarsToCents(o.bonus.amount);
    if (this.outcomes.length < MAX_LISTED_OUTCOMES || o.status === 'failed') this.outcomes.push(o);
    else count(this.omitted, o);
    log.info('assignment reviewed', {
      hitId: this.hitId,
      assignmentId: o.assignmentId,
      action: o.action,
      status: o.status,
      ...(o.error && { errorType: o.error.type }),
    });
  }
}
