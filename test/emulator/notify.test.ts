/** NotifyWorkers through the real AWS SDK: MTurk's limits, failure statuses, the admin ledger. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifyWorkersCommand, RejectAssignmentCommand } from '@aws-sdk/client-mturk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index';
import { client, failure } from './helpers';

let emu: RunningEmulator;
const dir = mkdtempSync(join(tmpdir(), 'mturk-emu-notify-'));

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => emu.reset());

const ids = (n: number, prefix = 'ANOTIFY') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function notify(workerIds: string[], subject = 'Bonus paid', messageText = 'Thanks!') {
  return client(emu.url).send(
    new NotifyWorkersCommand({ Subject: subject, MessageText: messageText, WorkerIds: workerIds }),
  );
}

describe('NotifyWorkers', () => {
  it("refuses what MTurk's limits refuse with a ValidationException, and records nothing", async () => {
    const cases: [string[], string, string, RegExp][] = [
      [
        [],
        'S',
        'M',
        /'workerIds' failed to satisfy constraint: Member must have length greater than or equal to 1/,
      ],
      [ids(101), 'S', 'M', /'workerIds' .*less than or equal to 100/],
      [ids(1), 'x'.repeat(201), 'M', /'subject' .*less than or equal to 200/],
      [ids(1), '', 'M', /'subject' .*greater than or equal to 1/],
      [ids(1), 'S', 'x'.repeat(4097), /'messageText' .*less than or equal to 4096/],
      [['not-a-worker'], 'S', 'M', /'workerIds' .*regular expression pattern/],
    ];
    for (const [workerIds, subject, text, message] of cases) {
      const err = await failure(notify(workerIds, subject, text));
      expect(err.name).toBe('ValidationException');
      expect(err.message).toMatch(message);
    }
    expect(emu.ledger().notifications).toEqual([]);
    expect(emu.ledger().requests.NotifyWorkers).toBe(cases.length);
  });

  it('accepts the limits exactly; answers failure statuses for workers it cannot reach', async () => {
    const { hits } = emu.seed({
      hits: [
        {
          assignments: [
            ...ids(98).map((workerId) => ({ workerId, status: 'Approved' as const })),
            { workerId: 'AREJECTED' },
            { workerId: 'ASUBMITTED' },
          ],
        },
      ],
    });
    const rejected = hits[0]!.assignments.find((a) => a.workerId === 'AREJECTED')!;
    await client(emu.url).send(
      new RejectAssignmentCommand({ AssignmentId: rejected.assignmentId, RequesterFeedback: 'No' }),
    );
    const subject = 's'.repeat(200);
    const text = 'm'.repeat(4096);
    // 98 approved + 1 rejected + 1 submitted only = 100; a stranger in a second call.
    const out = await notify([...ids(98), 'AREJECTED', 'ASUBMITTED'], subject, text);
    expect(out.NotifyWorkersFailureStatuses).toEqual([
      {
        NotifyWorkersFailureCode: 'HardFailure',
        NotifyWorkersFailureMessage: expect.stringContaining('no approved or rejected work'),
        WorkerId: 'ASUBMITTED',
      },
    ]);
    const second = await notify(['ASTRANGER', 'ANOTIFY0', 'ANOTIFY0']);
    expect(second.NotifyWorkersFailureStatuses).toEqual([
      {
        NotifyWorkersFailureCode: 'HardFailure',
        NotifyWorkersFailureMessage: expect.stringContaining('has not worked for this requester'),
        WorkerId: 'ASTRANGER',
      },
    ]);

    const res = await fetch(`${emu.url}/_emulator/ledger`);
    const ledger = (await res.json()) as ReturnType<RunningEmulator['ledger']>;
    expect(ledger.notifications).toHaveLength(2);
    expect(ledger.notifications[0]).toMatchObject({
      subject,
      messageText: text,
      workerIds: [...ids(98), 'AREJECTED'],
      failures: [{ workerId: 'ASUBMITTED', code: 'HardFailure' }],
      requestId: expect.any(String),
      time: expect.any(String),
    });
    expect(ledger.notifications[1]).toMatchObject({
      workerIds: ['ANOTIFY0'],
      failures: [{ workerId: 'ASTRANGER' }],
    });
  });

  it('keeps sent notifications across a restart with a state file', async () => {
    const statePath = join(dir, 'state.json');
    const first = await startEmulator({ port: 0, statePath });
    first.seed({ hits: [{ assignments: [{ workerId: 'APERSIST', status: 'Approved' }] }] });
    await client(first.url).send(
      new NotifyWorkersCommand({ Subject: 'Hi', MessageText: 'Paid', WorkerIds: ['APERSIST'] }),
    );
    await first.stop();
    const second = await startEmulator({ port: 0, statePath });
    try {
      expect(second.ledger().notifications).toEqual([
        expect.objectContaining({ subject: 'Hi', workerIds: ['APERSIST'], failures: [] }),
      ]);
    } finally {
      await second.stop();
    }
  });
});
