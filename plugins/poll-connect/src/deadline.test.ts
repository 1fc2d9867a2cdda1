import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('passes on a value that comes in time', async () => {
    assert.deepEqual(await withDeadline(Promise.resolve(7), 1000), { finished: true, value: 7 });
  });

  it('passes on a rejection that comes in time', async () => {
    await assert.rejects(withDeadline(Promise.reject(new Error('boom')), 1000), /boom/);
  });

  it('gives up at the deadline and swallows a later rejection', async () => {
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 500));
    const started = performance.now();
    assert.deepEqual(await withDeadline(late, 30), { finished: false });
    assert.ok(performance.now() - started < 400);
    // An unhandled rejection would fail this test file.
    await new Promise((resolve) => setTimeout(resolve, 700));
  });
});
