/** Asking the person at the terminal before money moves. */
import { createInterface } from 'node:readline/promises';
import type { CliIO } from './io';

async function ask(io: CliIO, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: true });
  try {
    return (await rl.question(question)).trim();
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
