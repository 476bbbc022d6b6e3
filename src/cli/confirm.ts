/** Asking the person at the terminal before money moves. */
import { createInterface } from 'node:readline/promises';
import type { CliIO } from './io';

/** The answer, or '' when the person pressed Ctrl-C or Ctrl-D instead (which means no). */
async function ask(io: CliIO, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: true });
  const abort = new AbortController();
  // In raw mode Ctrl-C reaches readline, not the process: without this the question hangs.
  rl.on('SIGINT', () => abort.abort());
  rl.on('close', () => abort.abort());
  try {
    return (await rl.question(question, { signal: abort.signal })).trim();
  } catch (err) {
    if (abort.signal.aborted) {
      io.stdout.write('\n');
      return '';
    }
    throw err;
  } finally {
    rl.close();
  }
}

/** y/yes (any case) is yes; anything else, including just Enter, is no. */
export async function confirmYesNo(io: CliIO, question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await ask(io, `${question} [y/N] `));
}

/** The person must type `expected` exactly: for real money, a reflexive "y" is not enough. */
export async function confirmByTyping(
  io: CliIO,
  question: string,
  expected: string,
): Promise<boolean> {
  return (await ask(io, `${question}\nType ${expected} to confirm: `)) === expected;
}
