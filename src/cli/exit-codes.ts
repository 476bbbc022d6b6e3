/** What `temporal-mturk` exits with; scripts branch on these, so they are part of the interface. */
export const ExitCode = {
  /** Every row paid or already paid (pay); the batch finished that way (status). */
  Ok: 0,
  /** Some rows are not paid: failed, invalid (with --skip-invalid), or still in flight. */
  NotAllPaid: 1,
  /** The file or the options are invalid; nothing was sent to MTurk. */
  InvalidInput: 2,
  /** The balance does not cover bonuses plus fees (and --allow-wait was not given). */
  InsufficientBalance: 3,
  /** Not confirmed: declined, no terminal and no --yes, or production not confirmed. */
  NotConfirmed: 4,
  /** Could not do the work: Temporal or MTurk unreachable, the batch workflow failed. */
  Error: 5,
  /** Interrupted (Ctrl-C); a started batch keeps running. */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a given exit code and a message for the user. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}
