import {
  ApproveAssignmentCommand,
  CreateHITCommand,
  GetAccountBalanceCommand,
  GetAssignmentCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  ListBonusPaymentsCommand,
  RejectAssignmentCommand,
  RequestError,
  SendBonusCommand,
} from '@aws-sdk/client-mturk';
import { describe, expect, it } from 'vitest';
import { failure, UUID, useEmulator } from './helpers';

const bed = useEmulator();

function seedOne(status?: 'Submitted' | 'Approved' | 'Rejected') {
  const r = bed.emu.seed({
    balance: '100.00',
    hits: [
      { title: 'Label cats', reward: '0.25', assignments: [{ workerId: 'AWORKERONE', status }] },
    ],
  });
  return { hitId: r.hits[0]!.hitId, assignmentId: r.hits[0]!.assignments[0]!.assignmentId };
}

describe('round trips through @aws-sdk/client-mturk', () => {
  it('CreateHIT and GetHIT return a HIT with Date timestamps', async () => {
    const created = await bed.mturk.send(
      new CreateHITCommand({
        Title: 'Transcribe',
        Description: 'Transcribe a receipt',
        Reward: '0.75',
        MaxAssignments: 3,
        LifetimeInSeconds: 3600,
        AssignmentDurationInSeconds: 600,
        Question: '<QuestionForm/>',
      }),
    );
    expect(created.$metadata.requestId).toMatch(UUID);
    const hit = created.HIT!;
    expect(hit.HITId).toMatch(/^[A-Z0-9]{30}$/);
    expect(hit).toMatchObject({
      Title: 'Transcribe',
      Reward: '0.75',
      MaxAssignments: 3,
      HITStatus: 'Assignable',
      NumberOfAssignmentsAvailable: 3,
    });
    expect(hit.CreationTime).toBeInstanceOf(Date);
    expect(hit.Expiration!.getTime() - hit.CreationTime!.getTime()).toBe(3600_000);

    const got = await bed.mturk.send(new GetHITCommand({ HITId: hit.HITId }));
    expect(got.HIT).toEqual(hit);
  });

  it('CreateHIT without required members is a ValidationException', async () => {
    const e = await failure(
      bed.mturk.send(new CreateHITCommand({ Title: 't', Description: 'd' } as never)),
    );
    expect(e.name).toBe('ValidationException');
    expect(e.message).toMatch(/^3 validation errors detected: /);
    expect(e.message).toContain("Value null at 'reward' failed to satisfy constraint");
  });

  it('GetAssignment returns the assignment and its HIT', async () => {
    const { hitId, assignmentId } = seedOne();
    const r = await bed.mturk.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
    expect(r.Assignment).toMatchObject({
      AssignmentId: assignmentId,
      HITId: hitId,
      WorkerId: 'AWORKERONE',
      AssignmentStatus: 'Submitted',
    });
    expect(r.Assignment!.SubmitTime).toBeInstanceOf(Date);
    expect(r.HIT).toMatchObject({ HITId: hitId, Title: 'Label cats', Reward: '0.25' });
  });

  it('unknown IDs are RequestErrors with an MTurk code and request ID', async () => {
    const e = await failure(
      bed.mturk.send(new GetAssignmentCommand({ AssignmentId: 'NOSUCHASSIGNMENT' })),
    );
    expect(e).toBeInstanceOf(RequestError);
    expect(e.name).toBe('RequestError');
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.AssignmentDoesNotExist');
    expect(e.message).toMatch(/^Assignment NOSUCHASSIGNMENT does not exist\. \(\d{13}\)$/);
    expect(e.$metadata!.httpStatusCode).toBe(400);
    expect(e.$metadata!.requestId).toMatch(UUID);
    expect(e.$fault).toBe('client');

    const h = await failure(bed.mturk.send(new GetHITCommand({ HITId: 'NOSUCHHIT' })));
    expect(h.name).toBe('RequestError');
    expect(h.TurkErrorCode).toBe('AWS.MechanicalTurk.HITDoesNotExist');
  });

  it('ApproveAssignment, then again: InvalidAssignmentState with the real message', async () => {
    const { assignmentId } = seedOne();
    const ok = await bed.mturk.send(
      new ApproveAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: 'Thanks' }),
    );
    expect(ok.$metadata.httpStatusCode).toBe(200);
    const e = await failure(
      bed.mturk.send(new ApproveAssignmentCommand({ AssignmentId: assignmentId })),
    );
    expect(e).toBeInstanceOf(RequestError);
    expect(e.message).toMatch(
      /^This operation can be called with a status of: Submitted \(\d{13}\)$/,
    );
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');
    expect(e.$metadata!.httpStatusCode).toBe(400);

    const a = await bed.mturk.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
    expect(a.Assignment!.AssignmentStatus).toBe('Approved');
    expect(a.Assignment!.ApprovalTime).toBeInstanceOf(Date);
    expect(a.Assignment!.RequesterFeedback).toBe('Thanks');
    expect(bed.emu.ledger().approvals).toHaveLength(1);
  });

  it('RejectAssignment needs feedback, rejects once, and OverrideRejection approves it', async () => {
    const { assignmentId } = seedOne();
    const v = await failure(
      bed.mturk.send(new RejectAssignmentCommand({ AssignmentId: assignmentId } as never)),
    );
    expect(v.name).toBe('ValidationException');

    await bed.mturk.send(
      new RejectAssignmentCommand({
        AssignmentId: assignmentId,
        RequesterFeedback: 'Empty answer',
      }),
    );
    const again = await failure(
      bed.mturk.send(
        new RejectAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: 'x' }),
      ),
    );
    expect(again.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');
    expect(again.message).toMatch(/^This operation can be called with a status of: Submitted/);

    const plain = await failure(
      bed.mturk.send(new ApproveAssignmentCommand({ AssignmentId: assignmentId })),
    );
    expect(plain.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');

    await bed.mturk.send(
      new ApproveAssignmentCommand({ AssignmentId: assignmentId, OverrideRejection: true }),
    );
    const a = await bed.mturk.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
    expect(a.Assignment!.AssignmentStatus).toBe('Approved');
    const l = bed.emu.ledger();
    expect(l.rejections).toHaveLength(1);
    expect(l.approvals[0]).toMatchObject({ assignmentId, override: true });
  });

  it('OverrideRejection only works within 30 days of submission', async () => {
    const { assignmentId } = seedOne('Rejected');
    bed.emu.advanceClock(31 * 24 * 3600_000);
    const e = await failure(
      bed.mturk.send(
        new ApproveAssignmentCommand({ AssignmentId: assignmentId, OverrideRejection: true }),
      ),
    );
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');
  });

  it('ListAssignmentsForHIT filters by status and paginates with NextToken', async () => {
    const assignments = Array.from({ length: 7 }, (_, i) => ({
      workerId: `AWORKER${i}`,
      status: (i % 3 === 0 ? 'Approved' : 'Submitted') as 'Approved' | 'Submitted',
    }));
    const seeded = bed.emu.seed({ hits: [{ assignments }] });
    const hitId = seeded.hits[0]!.hitId;

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await bed.mturk.send(
        new ListAssignmentsForHITCommand({ HITId: hitId, MaxResults: 2, NextToken: token }),
      );
      expect(page.NumResults).toBe(page.Assignments!.length);
      seen.push(...page.Assignments!.map((a) => a.WorkerId!));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(seen).toEqual(assignments.map((a) => a.workerId));

    const approved = await bed.mturk.send(
      new ListAssignmentsForHITCommand({ HITId: hitId, AssignmentStatuses: ['Approved'] }),
    );
    expect(approved.Assignments!.map((a) => a.WorkerId)).toEqual([
      'AWORKER0',
      'AWORKER3',
      'AWORKER6',
    ]);
    expect(approved.NextToken).toBeUndefined();

    const big = await failure(
      bed.mturk.send(new ListAssignmentsForHITCommand({ HITId: hitId, MaxResults: 101 })),
    );
    expect(big.name).toBe('ValidationException');
  });

  it('ListBonusPayments by HIT or assignment (exactly one), paginated', async () => {
    const seeded = bed.emu.seed({
      balance: '100.00',
      hits: [{ assignments: [{ workerId: 'AW1' }, { workerId: 'AW2' }] }],
    });
    const [a1, a2] = seeded.hits[0]!.assignments;
    for (let i = 0; i < 3; i++) {
      await bed.mturk.send(
        new SendBonusCommand({
          WorkerId: 'AW1',
          AssignmentId: a1!.assignmentId,
          BonusAmount: `1.0${i}`,
          Reason: `r${i}`,
        }),
      );
    }
    await bed.mturk.send(
      new SendBonusCommand({
        WorkerId: 'AW2',
        AssignmentId: a2!.assignmentId,
        BonusAmount: '2',
        Reason: 'other',
      }),
    );

    const byA = await bed.mturk.send(
      new ListBonusPaymentsCommand({ AssignmentId: a1!.assignmentId }),
    );
    expect(byA.NumResults).toBe(3);
    expect(byA.BonusPayments![0]).toMatchObject({
      WorkerId: 'AW1',
      AssignmentId: a1!.assignmentId,
      BonusAmount: '1.00',
      Reason: 'r0',
    });
    expect(byA.BonusPayments![0]!.GrantTime).toBeInstanceOf(Date);

    const amounts: string[] = [];
    let token: string | undefined;
    do {
      const page = await bed.mturk.send(
        new ListBonusPaymentsCommand({
          HITId: seeded.hits[0]!.hitId,
          MaxResults: 3,
          NextToken: token,
        }),
      );
      amounts.push(...page.BonusPayments!.map((b) => b.BonusAmount!));
      token = page.NextToken;
    } while (token);
    expect(amounts).toEqual(['1.00', '1.01', '1.02', '2.00']);

    const neither = await failure(bed.mturk.send(new ListBonusPaymentsCommand({})));
    expect(neither.name).toBe('RequestError');
    const both = await failure(
      bed.mturk.send(
        new ListBonusPaymentsCommand({
          HITId: seeded.hits[0]!.hitId,
          AssignmentId: a1!.assignmentId,
        }),
      ),
    );
    expect(both.name).toBe('RequestError');
    const zero = await failure(
      bed.mturk.send(
        new ListBonusPaymentsCommand({ AssignmentId: a1!.assignmentId, MaxResults: 0 }),
      ),
    );
    expect(zero.name).toBe('ValidationException');
  });

  it('GetAccountBalance returns dollar strings', async () => {
    bed.emu.setBalance('12.5');
    const r = await bed.mturk.send(new GetAccountBalanceCommand({}));
    expect(r.AvailableBalance).toBe('12.50');
    expect(r.OnHoldBalance).toBe('0.00');
    bed.emu.addBalance('0.05');
    expect((await bed.mturk.send(new GetAccountBalanceCommand({}))).AvailableBalance).toBe('12.55');
  });

  it('assignments are auto-approved once AutoApprovalTime passes', async () => {
    const { assignmentId } = seedOne();
    bed.emu.advanceClock(3 * 24 * 3600_000 + 1);
    const e = await failure(
      bed.mturk.send(new ApproveAssignmentCommand({ AssignmentId: assignmentId })),
    );
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');
    expect(bed.emu.ledger().approvals[0]).toMatchObject({
      assignmentId,
      auto: true,
      requestId: null,
    });
  });

  it('counts every request per operation, failed ones included', async () => {
    await failure(bed.mturk.send(new GetAssignmentCommand({ AssignmentId: 'NOPE' })));
    await bed.mturk.send(new GetAccountBalanceCommand({}));
    const l = bed.emu.ledger();
    expect(l.requests.GetAssignment).toBe(1);
    expect(l.requests.GetAccountBalance).toBe(1);
    expect(l.requests.SendBonus).toBe(0);
  });
});
