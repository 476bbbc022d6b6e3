/**
 * The `temporal-mturk` command line (entry point: main.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import { MTURK_TARGETS } from '../mturk/client';
import { DEFAULT_TASK_QUEUE } from '../temporal-config';
import { DEFAULT_BATCH_CONCURRENCY } from '../common/batch';
import { ExitCode } from './exit-codes';
import { processIO, type CliIO } from './io';
import { runAudit, type AuditOptions } from './audit-command';
import { runPay, type PayOptions } from './pay-command';
import { runPayUnderNewToken, type NewTokenOptions } from './new-token-command';
import { runStatus, type StatusOptions } from './status-command';
import { runWorker, type WorkerOptions } from './worker-command';

const ENVIRONMENT_HELP = `
Temporal connection: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_*, TEMPORAL_PROFILE (Temporal's environment configuration).
MTurk: --target/--endpoint or MTURK_TARGET/MTURK_ENDPOINT; production also needs
MTURK_CONFIRM_PRODUCTION=yes. AWS credentials come from the AWS SDK's default chain only.

Exit codes (pay, status): 0 every row paid or already paid; 1 some rows not paid (failed, invalid, unfinished);
2 invalid file or options (nothing sent to MTurk); 3 balance does not cover the batch;
4 not confirmed; 5 could not run (Temporal or MTurk unreachable, batch failed); 130 interrupted.
audit: 0 no discrepancies; 1 discrepancies (duplicates, missing rows, other amounts); 2 bad input;
5 MTurk unreachable.`;

/** Reading MTurk's results file (pay, status, audit); see csv-input.ts. */
function addResultsFileOptions(command: Command): Command {
  return command
    .option(
      '--amount-column <name>',
      "MTurk's results file: the column holding each bonus in dollars (rows left empty get none)",
    )
    .option('--reason <text>', "MTurk's results file: the reason shown to every worker")
    .option('--reason-column <name>', "MTurk's results file: the column holding each reason");
}

function addCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--target <target>',
        'MTurk target (default: $MTURK_TARGET or local, the emulator)',
      ).choices(MTURK_TARGETS),
    )
    .option('--endpoint <url>', "MTurk endpoint URL (default: the target's)")
    .option(
      '--task-queue <name>',
      `Temporal task queue of the worker (default: $TEMPORAL_TASK_QUEUE or ${DEFAULT_TASK_QUEUE})`,
    )
    .option('--max-bonus <dollars>', 'largest bonus accepted (default: 100.00)');
}

type SetExitCode = (code: number) => void;

export function buildProgram(io: CliIO, setExitCode: SetExitCode): Command {
  const program = rootCommand(io);
  addPayCommand(program, io, setExitCode);
  addStatusCommand(program, io, setExitCode);
  addAuditCommand(program, io, setExitCode);
  addPayUnderNewTokenCommand(program, io, setExitCode);
  addWorkerCommand(program, io, setExitCode);
  return program;
}

function rootCommand(io: CliIO): Command {
  return new Command('temporal-mturk')
    .description(
      'Pay Amazon Mechanical Turk bonuses from a CSV file, exactly once, through Temporal.',
    )
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .addHelpText('after', ENVIRONMENT_HELP)
    .exitOverride();
}

function addPayCommand(program: Command, io: CliIO, setExitCode: SetExitCode): void {
  addCommonOptions(
    addResultsFileOptions(program.command('pay'))
      .argument(
        '<file>',
        "CSV with columns assignmentId, workerId, amount, reason [, bonusKey, feedback], or MTurk's results file",
      )
      .description('validate, preview, confirm and pay a file of bonuses; safe to run again')
      .option('--dry-run', 'stop after the preview: nothing is paid')
      .option('-y, --yes', 'do not ask for confirmation (scripts)')
      .option('--skip-invalid', 'pay the valid rows and report the invalid ones')
      .option(
        '--allow-wait',
        'start even if the balance does not cover everything; payments wait for funds',
      )
      .option('--concurrency <n>', 'payments in flight at once', String(DEFAULT_BATCH_CONCURRENCY))
      .option('--report <file>', 'report file (.csv or .json; default: <file>.report.csv)')
      .option(
        '--check-ledger',
        "before confirming, count the rows MTurk's ledger already lists (always on --dry-run)",
      )
      .option('--notify <subject>', 'tell each worker this run pays, once, with NotifyWorkers')
      .option('--notify-message <text>', 'the message (default: amount, assignment and reason)'),
  ).action(async (file: string, options: PayOptions) => {
    setExitCode(await runPay(file, options, io));
  });
}

function addStatusCommand(program: Command, io: CliIO, setExitCode: SetExitCode): void {
  addCommonOptions(
    addResultsFileOptions(program.command('status'))
      .argument('<file-or-batch-id>', 'the CSV file given to pay, or a batch ID (mturk-batch/...)')
      .description('show the progress of a running or finished batch'),
  ).action(async (target: string, options: StatusOptions) => {
    setExitCode(await runStatus(target, options, io));
  });
}

function addAuditCommand(program: Command, io: CliIO, setExitCode: SetExitCode): void {
  addResultsFileOptions(
    program
      .command('audit')
      .argument(
        '[file]',
        "the bonuses asked for: the CSV pay reads, or MTurk's results file (optional with --hit)",
      )
      .description(
        "read MTurk's ledger of bonuses (no Temporal, no writes): duplicates, and rows missing or paid differently",
      )
      .addOption(
        new Option('--target <target>', 'MTurk target (default: $MTURK_TARGET or local)').choices(
          MTURK_TARGETS,
        ),
      )
      .option('--endpoint <url>', "MTurk endpoint URL (default: the target's)")
      .option(
        '--hit <HITId...>',
        'list the bonuses of these HITs (else per assignment of the file)',
      )
      .option('--report <file>', 'write every bonus and discrepancy (.csv or .json)'),
  ).action(async (file: string | undefined, options: AuditOptions) => {
    setExitCode(await runAudit(file, options, io));
  });
}

function addPayUnderNewTokenCommand(program: Command, io: CliIO, setExitCode: SetExitCode): void {
  addCommonOptions(
    program
      .command('pay-under-new-token')
      .argument('<workflow-id>', 'an unconfirmed payment (mturk-bonus/...)')
      .description(
        'pay an unconfirmed payment under a new token: MTurk said its token was used but never ' +
          'listed the bonus; this RISKS A SECOND PAYMENT, so it asks first',
      )
      .option('-y, --yes', 'do not ask (scripts)')
      .option('--note <text>', 'who decided and why (kept in the payment history)'),
  ).action(async (workflowId: string, options: NewTokenOptions) => {
    setExitCode(await runPayUnderNewToken(workflowId, options, io));
  });
}

function addWorkerCommand(program: Command, io: CliIO, setExitCode: SetExitCode): void {
  addCommonOptions(
    program
      .command('worker')
      .description('run a worker for payments and batches (until Ctrl-C)')
      .option(
        '--rate-limit <calls/s>',
        "most MTurk calls per second of this worker (default: $MTURK_RATE_LIMIT, or paced to MTurk's throttling)",
      ),
  ).action(async (options: WorkerOptions) => {
    setExitCode(await runWorker(options, io));
  });
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other parse error is a usage error.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.InvalidInput;
    }
    throw err;
  }
  return exitCode;
}

/** Runs the command line as this process: argv from the process, exit code set on it. */
export function runCli(): void {
  // A started batch does not depend on this process: say so, and how to look at it again.
  const onInterrupt = () => {
    process.stderr.write(
      '\nInterrupted. A batch that was started keeps running in Temporal; follow it with ' +
        '`temporal-mturk status <file>` or run the same `pay` command again (nothing is paid twice).\n',
    );
    process.exit(ExitCode.Interrupted);
  };
  if (process.argv[2] !== 'worker') process.once('SIGINT', onInterrupt);
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`temporal-mturk: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = ExitCode.Error;
    },
  );
}
