import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { FailureType, type ValidationIssue } from '../../src/common/errors';
import {
  DEFAULT_MAX_BONUS_CENTS,
  checkBonusRow,
  checkSendBonusInput,
  validateApproveAndBonusInput,
  validateApproveAssignmentInput,
  validateSendBonusInput,
} from '../../src/common/validation';

const ASSIGNMENT = '3AMYWKA6YBLU92KSOGLNT786ESP6OD';
const WORKER = 'A1B2C3D4E5F6G7';

const good = {
  assignmentId: ASSIGNMENT,
  workerId: WORKER,
  bonusAmount: '1.50',
  reason: 'Thanks for the careful work',
};

/** Runs fn, expects an InvalidBonusRequest failure and returns its issues. */
function issuesOf(fn: () => unknown): ValidationIssue[] {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ApplicationFailure);
  const failure = caught as ApplicationFailure;
  expect(failure.type).toBe(FailureType.InvalidBonusRequest);
  expect(failure.nonRetryable).toBe(true);
  const details = failure.details?.[0] as { issues: ValidationIssue[] };
  expect(details.issues.length).toBeGreaterThan(0);
  return details.issues;
}

function fieldsOf(issues: ValidationIssue[]): string[] {
  return issues.map((i) => i.field);
}

describe('validateApproveAndBonusInput', () => {
  it('normalises the amount and trims the reason', () => {
    const result = validateApproveAndBonusInput({
      ...good,
      bonusAmount: '5',
      reason: '  Great job \n',
    });
    expect(result).toEqual({
      assignmentId: ASSIGNMENT,
      workerId: WORKER,
      bonusAmount: '5.00',
      bonusCents: 500,
      reason: 'Great job',
    });
  });

  it('keeps optional fields that were set and drops empty feedback', () => {
    const result = validateApproveAndBonusInput({
      ...good,
      requesterFeedback: '   ',
      overrideRejection: true,
      bonusKey: 'round-2.final_v1',
      skipApproval: false,
    });
    expect(result).toEqual({
      ...good,
      bonusCents: 150,
      overrideRejection: true,
      bonusKey: 'round-2.final_v1',
      skipApproval: false,
    });
    expect('requesterFeedback' in result).toBe(false);
  });

  it('accepts boundaries: 64-char IDs, the cap, 4096-char reason, 1024-char feedback', () => {
    const result = validateApproveAndBonusInput({
      assignmentId: 'A'.repeat(64),
      workerId: 'A' + '9'.repeat(63),
      bonusAmount: '100.00',
      reason: 'r'.repeat(4096),
      requesterFeedback: 'f'.repeat(1024),
    });
    expect(result.bonusCents).toBe(DEFAULT_MAX_BONUS_CENTS);
    // A keyed reason is sent with " (bonus <key>)" appended: the limit holds for that text.
    const keyed = { ...good, bonusKey: 'k'.repeat(32) };
    expect(validateApproveAndBonusInput({ ...keyed, reason: 'r'.repeat(4096 - 41) }).bonusKey).toBe(
      'k'.repeat(32),
    );
    const issues = issuesOf(() =>
      validateApproveAndBonusInput({ ...keyed, reason: 'r'.repeat(4096 - 40) }),
    );
    expect(issues).toEqual([
      {
        field: 'reason',
        message: 'with the bonus key appended it is 4097 characters, at most 4096',
      },
    ]);
  });

  it.each([
    ['Thanks (bonus k)'],
    ['Thanks (bonus week-2)  '],
    ['(bonus a.b_c)'],
    ['Thanks\u00a0(bonus  k)'],
  ])('refuses a reason ending like a keyed bonus on the ledger: %j', (reason) => {
    const issues = issuesOf(() => validateApproveAndBonusInput({ ...good, reason }));
    expect(fieldsOf(issues)).toEqual(['reason']);
    expect(issues[0]!.message).toMatch(/marks a keyed bonus.*bonusKey/);
  });

  it('accepts reasons that only mention a bonus', () => {
    for (const reason of ['Thanks (bonus)', 'Thanks (bonus k) for all', 'bonus k', '(bonus k!)']) {
      expect(validateApproveAndBonusInput({ ...good, reason }).reason).toBe(reason);
    }
  });

  it('checks a target binding: name and endpoint URL', () => {
    const target = {
      name: 'sandbox',
      endpoint: 'https://mturk-requester-sandbox.us-east-1.amazonaws.com/',
    };
    expect(validateApproveAndBonusInput({ ...good, target }).target).toEqual({
      name: 'sandbox',
      endpoint: 'https://mturk-requester-sandbox.us-east-1.amazonaws.com',
    });
    for (const bad of [
      'sandbox',
      { name: 'prod', endpoint: 'https://x' },
      { name: 'local', endpoint: 'ftp://x' },
      { name: 'local', endpoint: 'http://127.0.0.1:1', extra: 1 },
    ]) {
      expect(
        fieldsOf(issuesOf(() => validateApproveAndBonusInput({ ...good, target: bad }))),
      ).toEqual(['target']);
    }
  });

  it('allows line feeds, tabs and any printable Unicode in the reason', () => {
    const reason = 'Line one\n\tLine two: très bien 👍 — 谢谢';
    expect(validateApproveAndBonusInput({ ...good, reason }).reason).toBe(reason);
  });

  it.each([
    ['$5'],
    ['5$'],
    ['1.234'],
    ['-1'],
    ['1e3'],
    [' 5'],
    ['5 '],
    ['5,00'],
    [''],
    ['5.'],
    ['.5'],
    ['\uFF15'],
    ['0'],
    ['0.00'],
    ['100.01'],
    ['1000000'],
  ])('refuses bonusAmount %j', (bonusAmount) => {
    const issues = issuesOf(() => validateApproveAndBonusInput({ ...good, bonusAmount }));
    expect(fieldsOf(issues)).toEqual(['bonusAmount']);
  });

  it('refuses a number where the amount string belongs', () => {
    const issues = issuesOf(() => validateApproveAndBonusInput({ ...good, bonusAmount: 5 }));
    expect(issues).toEqual([{ field: 'bonusAmount', message: expect.stringMatching(/string/) }]);
  });

  it('applies a configured cap', () => {
    expect(
      validateApproveAndBonusInput({ ...good, bonusAmount: '250' }, { maxBonusCents: 25000 })
        .bonusCents,
    ).toBe(25000);
    const issues = issuesOf(() =>
      validateApproveAndBonusInput({ ...good, bonusAmount: '2.01' }, { maxBonusCents: 200 }),
    );
    expect(issues[0]?.message).toMatch(/at most 2\.00/);
  });

  it.each([0, -1, 1.5, Number.NaN])('treats maxBonusCents %d as a configuration error', (max) => {
    expect(() => validateApproveAndBonusInput(good, { maxBonusCents: max })).toThrow(RangeError);
  });

  it.each([
    ['assignmentId', ''],
    ['assignmentId', 'A'.repeat(65)],
    ['assignmentId', '3amywka6yblu92ksoglnt786esp6od'],
    ['assignmentId', ` ${ASSIGNMENT}`],
    ['assignmentId', '3AMYWKA6-YBLU92'],
    ['workerId', ''],
    ['workerId', 'A'.repeat(65)],
    ['workerId', 'B1B2C3D4E5F6G7'],
    ['workerId', 'a1b2c3d4e5f6g7'],
    ['workerId', 'A'],
    ['reason', ''],
    ['reason', '   \n\t '],
    ['reason', 'r'.repeat(4097)],
    ['reason', 'carriage\rreturn'],
    ['reason', 'nul\u0000byte'],
    ['reason', 'bell\u0007'],
    ['reason', 'del\u007F'],
    ['reason', 'c1\u0085next-line'],
    ['reason', 'lone \uD800 surrogate'],
    ['requesterFeedback', 'f'.repeat(1025)],
    ['requesterFeedback', 'escape\u001B[31m'],
    ['bonusKey', ''],
    ['bonusKey', 'k'.repeat(33)],
    ['bonusKey', 'has space'],
    ['bonusKey', 'slash/key'],
  ])('refuses %s = %j', (field, value) => {
    const issues = issuesOf(() => validateApproveAndBonusInput({ ...good, [field]: value }));
    expect(fieldsOf(issues)).toEqual([field]);
  });

  it.each(['overrideRejection', 'skipApproval'])('refuses a non-boolean %s', (field) => {
    const issues = issuesOf(() => validateApproveAndBonusInput({ ...good, [field]: 'yes' }));
    expect(issues).toEqual([{ field, message: 'must be true or false' }]);
  });

  it('lists every problem at once, each under its field', () => {
    const issues = issuesOf(() =>
      validateApproveAndBonusInput({
        assignmentId: '',
        workerId: 'nope',
        bonusAmount: '$5',
        reason: ' ',
        bonus_key: 'typo',
      }),
    );
    expect(fieldsOf(issues).sort()).toEqual(
      ['assignmentId', 'bonusAmount', 'bonus_key', 'reason', 'workerId'].sort(),
    );
    expect(issues.find((i) => i.field === 'bonus_key')?.message).toBe('is not a known field');
  });

  it('puts every issue in the failure message', () => {
    try {
      validateApproveAndBonusInput({ ...good, assignmentId: '', bonusAmount: '1.234' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/assignmentId: must not be empty/);
      expect((err as Error).message).toMatch(/bonusAmount: must be US dollars/);
    }
  });

  it.each([null, undefined, 'string', 42, []])('refuses a non-object input %j', (input) => {
    const issues = issuesOf(() => validateApproveAndBonusInput(input));
    expect(issues).toEqual([{ field: 'input', message: 'must be an object' }]);
  });

  it('reports missing required fields as required', () => {
    const issues = issuesOf(() => validateApproveAndBonusInput({}));
    expect(issues).toEqual([
      { field: 'assignmentId', message: 'is required' },
      { field: 'workerId', message: 'is required' },
      { field: 'bonusAmount', message: 'is required' },
      { field: 'reason', message: 'is required' },
    ]);
  });
});

describe('validateSendBonusInput', () => {
  const send = { ...good, uniqueRequestToken: 'wf-abc123:1' };

  it('normalises and keeps the token', () => {
    expect(
      validateSendBonusInput({ ...send, bonusAmount: '2.5', priorPaymentPossible: true }),
    ).toEqual({
      ...send,
      bonusAmount: '2.50',
      bonusCents: 250,
      priorPaymentPossible: true,
    });
  });

  it.each([
    ['uniqueRequestToken', ''],
    ['uniqueRequestToken', 't'.repeat(65)],
    ['uniqueRequestToken', 'has space'],
    ['uniqueRequestToken', 'tøken'],
    ['priorPaymentPossible', 'true'],
  ])('refuses %s = %j', (field, value) => {
    const issues = issuesOf(() => validateSendBonusInput({ ...send, [field]: value }));
    expect(fieldsOf(issues)).toEqual([field]);
  });

  it('accepts a 64-char token and refuses fields of the workflow input', () => {
    expect(validateSendBonusInput({ ...send, uniqueRequestToken: 't'.repeat(64) }).bonusCents).toBe(
      150,
    );
    const result = checkSendBonusInput({ ...send, skipApproval: true });
    expect(result).toEqual({
      ok: false,
      issues: [{ field: 'skipApproval', message: 'is not a known field' }],
    });
  });
});

describe('validateApproveAssignmentInput', () => {
  it('accepts an assignment with feedback and override', () => {
    expect(
      validateApproveAssignmentInput({
        assignmentId: ASSIGNMENT,
        requesterFeedback: ' Well done ',
        overrideRejection: true,
      }),
    ).toEqual({
      assignmentId: ASSIGNMENT,
      requesterFeedback: 'Well done',
      overrideRejection: true,
    });
  });

  it.each(['', 'A'.repeat(65), 'lower'])('refuses assignmentId %j', (assignmentId) => {
    const issues = issuesOf(() => validateApproveAssignmentInput({ assignmentId }));
    expect(fieldsOf(issues)).toEqual(['assignmentId']);
  });
});

describe('checkBonusRow', () => {
  it('accepts a CSV row with extra columns and empty optional cells', () => {
    const result = checkBonusRow({
      ...good,
      bonusKey: '',
      requesterFeedback: '',
      overrideRejection: 'TRUE',
      skipApproval: '',
      HITId: '3Y3N5A7N4G9ZGHFQ0UBK4JB2ZRXMYP',
      'Answer.comment': 'anything',
    });
    expect(result).toEqual({
      ok: true,
      value: { ...good, bonusCents: 150, overrideRejection: true },
    });
  });

  it('returns every issue of a bad row without throwing', () => {
    const result = checkBonusRow({
      assignmentId: ASSIGNMENT,
      workerId: WORKER,
      bonusAmount: '5,00',
      reason: '',
      skipApproval: 'maybe',
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(fieldsOf(result.issues)).toEqual(['bonusAmount', 'reason', 'skipApproval']);
    }
  });

  it('reports missing columns and refuses non-object rows', () => {
    const missing = checkBonusRow({ assignmentId: ASSIGNMENT });
    expect(missing.ok ? [] : fieldsOf(missing.issues)).toEqual([
      'workerId',
      'bonusAmount',
      'reason',
    ]);
    expect(checkBonusRow(['a', 'b'])).toEqual({
      ok: false,
      issues: [{ field: 'row', message: 'must be an object of columns' }],
    });
  });

  it('honours the cap', () => {
    const result = checkBonusRow({ ...good, bonusAmount: '3.00' }, { maxBonusCents: 299 });
    expect(result.ok).toBe(false);
  });
});
