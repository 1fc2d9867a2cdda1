import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '@handyrep/plugin-sdk';
import { ActionLock } from './action-lock.js';

const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };
const gate = (): { promise: Promise<void>; open: () => void } => {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
};

describe('ActionLock', () => {
  it('refuses a second action at once, naming the running one', async () => {
    const lock = new ActionLock(clock);
    const g = gate();
    const first = lock.run('clone pg3', () => g.promise);
    await assert.rejects(lock.run('manual failover', async () => 'x'), (err: { code?: string; message: string }) => err.code === ErrorCodes.ACTION_IN_PROGRESS && /clone pg3 is running/.test(err.message));
    g.open();
    await first;
    assert.equal(await lock.run('manual failover', async () => 'ran'), 'ran');
  });

  it('an operator action waits for a brief housekeeping holder instead of failing', async () => {
    const lock = new ActionLock(clock);
    const g = gate();
    const order: string[] = [];
    const housekeeping = lock.run('changing the synchronous standbys', async () => {
      await g.promise;
      order.push('housekeeping');
    }, { brief: true });
    const action = lock.run('add_server pg4', async () => {
      order.push('add_server');
      return 'added';
    });
    setTimeout(g.open, 50);
    assert.equal(await action, 'added');
    await housekeeping;
    assert.deepEqual(order, ['housekeeping', 'add_server']);
  });

  it('a brief holder does not wait for another brief holder', async () => {
    const lock = new ActionLock(clock);
    const g = gate();
    const first = lock.run('changing the synchronous standbys', () => g.promise, { brief: true });
    await assert.rejects(lock.run('changing the synchronous standbys', async () => undefined, { brief: true }), /is running/);
    g.open();
    await first;
  });

  it('expectingDown marks the server on the holder while its work runs, and only then', async () => {
    const lock = new ActionLock(clock);
    const seen: (string | undefined)[] = [];
    await lock.run('restart pg1', async () => {
      seen.push(lock.current()?.expectedDown);
      await lock.expectingDown('pg1', async () => {
        seen.push(lock.current()?.expectedDown);
      });
      seen.push(lock.current()?.expectedDown);
    });
    assert.deepEqual(seen, [undefined, 'pg1', undefined]);
    await assert.rejects(lock.run('restart pg2', () => lock.expectingDown('pg2', async () => Promise.reject(new Error('stop failed')))), /stop failed/);
    assert.equal(lock.current(), undefined);
  });
});
