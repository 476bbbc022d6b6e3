import { GetAccountBalanceCommand, SendBonusCommand, ServiceFault } from '@aws-sdk/client-mturk';
import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../src/emulator/faults';
import { client, failure, UUID, useEmulator } from './helpers';

let assignmentId = '';

const bed = useEmulator((emu) => {
  const r = emu.seed({
    balance: '100.00',
    hits: [{ assignments: [{ workerId: 'AFAULTWORKER' }] }],
  });
  assignmentId = r.hits[0]!.assignments[0]!.assignmentId;
});

const bonus = (token?: string) =>
  bed.mturk.send(
    new SendBonusCommand({
      WorkerId: 'AFAULTWORKER',
      AssignmentId: assignmentId,
      BonusAmount: '1.00',
      Reason: 'r',
      UniqueRequestToken: token,
    }),
  );

async function outcomes(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await bed.mturk.send(new GetAccountBalanceCommand({}));
      out.push('ok');
    } catch (e) {
      out.push((e as Error).name);
    }
  }
  return out;
}

describe('fault injection', () => {
  it('ServiceFault reaches the SDK as a typed 500 and changes nothing', async () => {
    bed.emu.setFaults({ operations: { SendBonus: { serviceFaultRate: 1 } } });
    const e = await failure(bonus());
    expect(e).toBeInstanceOf(ServiceFault);
    expect(e.name).toBe('ServiceFault');
    expect(e.$fault).toBe('server');
    expect(e.$metadata!.httpStatusCode).toBe(500);
    expect(e.$metadata!.requestId).toMatch(UUID);
    expect(e.TurkErrorCode).toBeTruthy();
    const l = bed.emu.ledger();
    expect(l.bonuses).toEqual([]);
    expect(l.faults).toEqual({ serviceFault: 1, throttle: 0, dropAfterCommit: 0 });
    expect(l.requests.SendBonus).toBe(1);
  });

  it('throttling surfaces as ThrottlingException, which the SDK retries as throttling', async () => {
    bed.emu.setFaults({ operations: { GetAccountBalance: { throttleRate: 1 } } });
    const e = await failure(bed.mturk.send(new GetAccountBalanceCommand({})));
    expect(e.name).toBe('ThrottlingException');
    expect(e.message).toBe('Rate exceeded');
    expect(e.$metadata!.httpStatusCode).toBe(400);

    const retrying = client(bed.emu.url, 2);
    const r = await failure(retrying.send(new GetAccountBalanceCommand({})));
    retrying.destroy();
    expect(r.name).toBe('ThrottlingException');
    expect(r.$metadata!.attempts).toBe(2);
    expect(bed.emu.ledger().faults.throttle).toBe(3);
  });

  it('commit-then-drop applies the write once while the client sees a network error', async () => {
    bed.emu.setFaults({ operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const e = await failure(bonus('drop-1'));
    expect(['RequestError', 'ServiceFault', 'ThrottlingException']).not.toContain(e.name);
    expect(e.$metadata?.httpStatusCode).toBeUndefined();
    let l = bed.emu.ledger();
    expect(l.bonuses).toHaveLength(1);
    expect(l.balance).toBe('98.80');
    expect(l.faults.dropAfterCommit).toBe(1);

    bed.emu.setFaults({});
    // A retry with the same token is recognised; one without a token pays twice.
    const dup = await failure(bonus('drop-1'));
    expect(dup.TurkErrorCode).toBe('AWS.MechanicalTurk.DuplicateRequest');
    expect(dup.message).toContain(l.bonuses[0]!.requestId);
    await bonus();
    l = bed.emu.ledger();
    expect(l.bonuses).toHaveLength(2);
    expect(l.balance).toBe('97.60');
  });

  it('rates are deterministic under a seed', async () => {
    const cfg = {
      seed: 42,
      operations: { GetAccountBalance: { serviceFaultRate: 0.3, throttleRate: 0.2 } },
    };
    bed.emu.setFaults(cfg);
    const first = await outcomes(40);
    bed.emu.setFaults(cfg);
    const second = await outcomes(40);
    expect(second).toEqual(first);
    expect(first).toContain('ok');
    expect(first).toContain('ServiceFault');
    expect(first).toContain('ThrottlingException');
    const faults = bed.emu.ledger().faults;
    expect(faults.serviceFault).toBe(2 * first.filter((o) => o === 'ServiceFault').length);
    expect(faults.throttle).toBe(2 * first.filter((o) => o === 'ThrottlingException').length);

    bed.emu.setFaults({ ...cfg, seed: 7 });
    expect(await outcomes(40)).not.toEqual(first);
  });

  it('the fault sequence matches the FaultInjector directly and ignores other operations', () => {
    const cfg = { seed: 3, operations: { SendBonus: { serviceFaultRate: 0.5 } } };
    const a = new FaultInjector();
    a.configure(cfg);
    const b = new FaultInjector();
    b.configure(cfg);
    const seqA = Array.from({ length: 20 }, () => a.decide('SendBonus').before);
    const seqB = Array.from({ length: 20 }, () => {
      b.decide('GetHIT');
      return b.decide('SendBonus').before;
    });
    expect(seqB).toEqual(seqA);
    expect(() => a.configure({ operations: { X: { throttleRate: 2 } } })).toThrow(
      /between 0 and 1/,
    );
  });

  it('injects latency (number or [min, max]) and clears with an empty config', async () => {
    bed.emu.setFaults({ operations: { GetAccountBalance: { latencyMs: [150, 160] } } });
    let t = performance.now();
    await bed.mturk.send(new GetAccountBalanceCommand({}));
    expect(performance.now() - t).toBeGreaterThanOrEqual(145);
    bed.emu.setFaults({});
    t = performance.now();
    await bed.mturk.send(new GetAccountBalanceCommand({}));
    expect(performance.now() - t).toBeLessThan(145);
  });
});
