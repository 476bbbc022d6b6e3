import { describe, expect, it } from 'vitest';
import { WORKER_MEMORY_ENV, WORKER_NODE_FLAGS, planWorkerMemory } from '../../src/worker-memory';

describe('planWorkerMemory', () => {
  it('relaunches with the worker flags and MALLOC_ARENA_MAX=2 by default', () => {
    const plan = planWorkerMemory({ PATH: '/bin' }, []);
    expect(plan).toMatchObject({ relaunch: true, nodeArgs: [...WORKER_NODE_FLAGS] });
    expect(plan.relaunch && plan.env).toMatchObject({ PATH: '/bin', MALLOC_ARENA_MAX: '2' });
  });

  it('keeps a MALLOC_ARENA_MAX the user set', () => {
    const plan = planWorkerMemory({ MALLOC_ARENA_MAX: '4' }, []);
    expect(plan.relaunch && plan.env.MALLOC_ARENA_MAX).toBe('4');
  });

  it('does not relaunch the relaunched worker', () => {
    const plan = planWorkerMemory({}, []);
    expect(plan.relaunch).toBe(true);
    expect(planWorkerMemory(plan.relaunch ? plan.env : {}, [...WORKER_NODE_FLAGS])).toEqual({
      relaunch: false,
      reason: 'already relaunched',
    });
  });

  it("leaves the user's own heap flags alone", () => {
    expect(planWorkerMemory({}, ['--max-old-space-size=2048']).relaunch).toBe(false);
    expect(planWorkerMemory({ NODE_OPTIONS: '--max-semi-space-size=16' }, []).relaunch).toBe(false);
  });

  it(`keeps Node's own settings with ${WORKER_MEMORY_ENV}=off`, () => {
    expect(planWorkerMemory({ [WORKER_MEMORY_ENV]: 'off' }, []).relaunch).toBe(false);
  });
});
