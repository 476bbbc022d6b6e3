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

/**
 * Runs one command's body: its exit code, or for a failure one line on stderr,
 * `temporal-mturk <command>: <message>` (`explain` may word an error of its own), and the
 * CliError's exit code (any other error: Error).
 */
export async function commandExitCode(
  command: string,
  print: { err: (line: string) => void },
  body: () => Promise<number>,
  explain: (err: unknown) => string | undefined = () => undefined,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const message = explain(err) ?? (err instanceof Error ? err.message : String(err));
    print.err(`temporal-mturk ${command}: ${message}`);
    return err instanceof CliError ? err.exitCode : ExitCode.Error;
  }
}
