import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RING_CAPACITY, LogRing } from './log-ring.js';

describe('LogRing', () => {
  it('returns lines newest first without their newline', () => {
    const ring = new LogRing(5);
    ring.write('a\n');
    ring.write('b\n');
    assert.deepEqual(ring.newest(10), ['b', 'a']);
    assert.equal(ring.size, 2);
  });

  it('drops the oldest lines beyond its capacity', () => {
    const ring = new LogRing(3);
    for (const line of ['1', '2', '3', '4', '5']) ring.write(`${line}\n`);
    assert.deepEqual(ring.newest(10), ['5', '4', '3']);
    assert.deepEqual(ring.newest(2), ['5', '4']);
    assert.equal(ring.size, 3);
  });

  it('has a default capacity and refuses a useless one', () => {
    assert.equal(new LogRing().capacity, DEFAULT_RING_CAPACITY);
    assert.throws(() => new LogRing(0), RangeError);
    assert.throws(() => new LogRing(2.5), RangeError);
  });
});
