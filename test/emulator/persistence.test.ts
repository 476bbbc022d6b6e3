import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApproveAssignmentCommand,
  GetAssignmentCommand,
  SendBonusCommand,
} from '@aws-sdk/client-mturk';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index';
import { client, failure } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'mturk-emu-'));
const running: RunningEmulator[] = [];

afterAll(async () => {
  await Promise.all(running.map((e) => e.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(statePath: string) {
  const emu = await startEmulator({ port: 0, statePath });
  running.push(emu);
  return emu;
}

describe('statePath', () => {
  it('the ledger, tokens and assignment states survive a restart', async () => {
    const statePath = join(dir, 'state.json');
    const first = await start(statePath);
    const seeded = first.seed({
      balance: '20.00',
      hits: [{ assignments: [{ workerId: 'APERSIST' }] }],
    });
    const assignmentId = seeded.hits[0]!.assignments[0]!.assignmentId;
    const c1 = client(first.url);
    const paid = await c1.send(
      new SendBonusCommand({
        WorkerId: 'APERSIST',
        AssignmentId: assignmentId,
        BonusAmount: '2.50',
        Reason: 'kept',
        UniqueRequestToken: 'persisted-token',
      }),
    );
    await c1.send(new ApproveAssignmentCommand({ AssignmentId: assignmentId }));
    first.setFaults({ operations: { GetAssignment: { dropAfterCommitRate: 1 } } });
    await failure(c1.send(new GetAssignmentCommand({ AssignmentId: assignmentId })));
    const before = first.ledger();
    c1.destroy();
    await first.stop();

    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as { version: number };
    expect(saved.version).toBe(2);

    const second = await start(statePath);
    const after = second.ledger();
    expect(after.balance).toBe('17.00');
    expect(after.bonuses).toEqual(before.bonuses);
    expect(after.approvals).toEqual(before.approvals);
    expect(after.requests).toEqual(before.requests);
    expect(after.faults).toEqual({ serviceFault: 0, throttle: 0, dropAfterCommit: 1 });

    const c2 = client(second.url);
    const dup = await failure(
      c2.send(
        new SendBonusCommand({
          WorkerId: 'APERSIST',
          AssignmentId: assignmentId,
          BonusAmount: '2.50',
          Reason: 'kept',
          UniqueRequestToken: 'persisted-token',
        }),
      ),
    );
    expect(dup.TurkErrorCode).toBe('AWS.MechanicalTurk.DuplicateRequest');
    expect(dup.message).toContain(paid.$metadata.requestId!);
    const a = await c2.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
    expect(a.Assignment!.AssignmentStatus).toBe('Approved');
    c2.destroy();
  });

  it('journal replay across several restarts, a reset and a torn journal tail', async () => {
    const statePath = join(dir, 'journal.json');
    const pay = async (emu: RunningEmulator, assignmentId: string, amount: string) => {
      const c = client(emu.url);
      await c.send(
        new SendBonusCommand({
          WorkerId: 'AJ',
          AssignmentId: assignmentId,
          BonusAmount: amount,
          Reason: 'j',
        }),
      );
      c.destroy();
    };
    let emu = await start(statePath);
    emu.seed({ balance: '1.00', hits: [{ assignments: [{ workerId: 'AJ' }] }] });
    emu.reset(); // a new generation: nothing from before the reset may come back
    const seeded = emu.seed({ balance: '50.00', hits: [{ assignments: [{ workerId: 'AJ' }] }] });
    const id = seeded.hits[0]!.assignments[0]!.assignmentId;
    await pay(emu, id, '1.00');
    await emu.stop();

    emu = await start(statePath);
    await pay(emu, id, '2.00');
    emu.advanceClock(60_000);
    await emu.stop();
    appendFileSync(`${statePath}.journal`, '{"g":');

    emu = await start(statePath);
    const l = emu.ledger();
    expect(l.bonuses.map((b) => b.amount)).toEqual(['1.00', '2.00']);
    expect(l.balance).toBe('46.40');
    expect(l.requests.SendBonus).toBe(2);
    await pay(emu, id, '0.50');
    expect(emu.ledger().balance).toBe('45.80');
    await emu.stop();
    emu = await start(statePath);
    expect(emu.ledger().bonuses).toHaveLength(3);
    expect(emu.ledger().balance).toBe('45.80');
  });

  it('a dropped (commit-then-drop) write is already on disk', async () => {
    const statePath = join(dir, 'drop.json');
    const emu = await start(statePath);
    const seeded = emu.seed({ balance: '5.00', hits: [{ assignments: [{ workerId: 'ADROP' }] }] });
    emu.setFaults({ operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const c = client(emu.url);
    await failure(
      c.send(
        new SendBonusCommand({
          WorkerId: 'ADROP',
          AssignmentId: seeded.hits[0]!.assignments[0]!.assignmentId,
          BonusAmount: '1.00',
          Reason: 'r',
        }),
      ),
    );
    c.destroy();
    // The bonus is in the journal already, before the connection was dropped.
    const journal = readFileSync(`${statePath}.journal`, 'utf8').trim().split('\n');
    const last = JSON.parse(journal.at(-1)!) as {
      bonuses: { items: unknown[] };
      balanceCents: number;
    };
    expect(last.bonuses.items).toHaveLength(1);
    expect(last.balanceCents).toBe(380);
  });

  it('refuses to start on a corrupt state file rather than losing the ledger', async () => {
    const statePath = join(dir, 'corrupt.json');
    writeFileSync(statePath, '{"version":1,"balanceC');
    await expect(startEmulator({ port: 0, statePath })).rejects.toThrow(/unreadable/);
  });
});
