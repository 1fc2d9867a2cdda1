import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasErrorCode } from './errors.js';
import { withTimeout } from './with-timeout.js';

describe('withTimeout', () => {
  it('passes a prompt value or rejection through, for a promise or a function', async () => {
    assert.equal(await withTimeout(Promise.resolve(7), 1000, 'x'), 7);
    assert.equal(await withTimeout(async () => 8, 1000, 'x'), 8);
    await assert.rejects(withTimeout(Promise.reject(new Error('boom')), 1000, 'x'), /boom/);
  });

  it('turns a synchronous throw of the function into a rejection', async () => {
    const throwing = (): Promise<number> => {
      throw new Error('thrown at once');
    };
    await assert.rejects(withTimeout(throwing, 1000, 'x'), /thrown at once/);
  });

  it('rejects with a coded TimeoutError carrying the message when nothing answers in time', async () => {
    const started = performance.now();
    await assert.rejects(withTimeout(new Promise<never>(() => undefined), 30, 'lag query on db1 got no answer within 30 ms'), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.TIMEOUT));
      assert.equal((err as Error).message, 'lag query on db1 got no answer within 30 ms');
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 25 && elapsed < 1000, `${elapsed} ms`);
  });

  it('ignores a rejection that comes after the deadline', async () => {
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 100));
    await assert.rejects(withTimeout(late, 20, 'too slow'), /too slow/);
    // An unhandled rejection would fail this test file.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  it('leaves no timer behind once the work settled', async () => {
    const before = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    await withTimeout(Promise.resolve(1), 60_000, 'x');
    assert.equal(process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length, before);
  });
});
