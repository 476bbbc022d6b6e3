import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { inject } from 'vitest';

const root = path.join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CsvRow {
  assignmentId: string;
  workerId: string;
  amount: string;
  reason: string;
  bonusKey?: string;
  feedback?: string;
}

/** The real command, `node --import tsx src/cli/main.ts ...`, as its own process (not a TTY). */
export function spawnCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env))
    if (key.startsWith('MTURK_') || key.startsWith('TEMPORAL_')) delete env[key];
  return spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), ...args],
    {
      cwd: root,
      env: {
        ...env,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...extraEnv,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
}

export function collect(child: ChildProcess): { output: () => CliRun; exited: Promise<CliRun> } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = () => ({ code: child.exitCode, stdout, stderr });
  const exited = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { output, exited };
}

export async function runCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const child = spawnCli(args, extraEnv);
  child.stdin?.end();
  return collect(child).exited;
}

let dir: string | undefined;
function workDir(): string {
  dir ??= mkdtempSync(path.join(tmpdir(), 'temporal-mturk-cli-'));
  return dir;
}

let files = 0;
export function writeCsv(
  rows: CsvRow[],
  header = 'assignmentId,workerId,amount,reason,bonusKey,feedback',
): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = rows.map((r) =>
    [r.assignmentId, r.workerId, r.amount, r.reason, r.bonusKey ?? '', r.feedback ?? '']
      .map(quote)
      .join(','),
  );
  return writeText(`${header}\n${lines.join('\n')}\n`);
}

export function writeText(text: string): string {
  const file = path.join(workDir(), `bonuses-${process.pid}-${files++}.csv`);
  writeFileSync(file, text);
  return file;
}

export type ReportLine = Record<
  | 'line'
  | 'assignmentId'
  | 'workerId'
  | 'amount'
  | 'status'
  | 'requestId'
  | 'workflowId'
  | 'token'
  | 'foundBy'
  | 'notification'
  | 'error',
  string
>;

export function readReport(csvPath: string): ReportLine[] {
  return parse(readFileSync(`${csvPath}.report.csv`, 'utf8'), {
    columns: true,
    comment: '#',
  }) as ReportLine[];
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
