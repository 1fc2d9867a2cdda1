import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROTOCOL_3_0, startupMessage, terminateMessage } from './startup-message.js';

describe('startupMessage', () => {
  it('encodes length, protocol 3.0 and NUL-terminated pairs with a final NUL', () => {
    const message = startupMessage({ user: 'postgres', database: 'appdb' });
    assert.equal(message.readInt32BE(0), message.length);
    assert.equal(message.readInt32BE(4), PROTOCOL_3_0);
    assert.equal(PROTOCOL_3_0, (3 << 16) | 0);
    assert.equal(message.subarray(8).toString('latin1'), 'user\0postgres\0database\0appdb\0\0');
  });

  it('counts bytes, not characters, for non-ASCII names', () => {
    const message = startupMessage({ user: 'rôle' });
    assert.equal(message.readInt32BE(0), message.length);
    assert.equal(message.length, 8 + 'user\0'.length + Buffer.byteLength('rôle\0') + 1);
  });

  it('refuses a NUL inside a value, which would shift every later field', () => {
    assert.throws(() => startupMessage({ user: 'a\0b' }), /NUL/);
  });
});

describe('terminateMessage', () => {
  it("is 'X' with length 4", () => {
    assert.deepEqual([...terminateMessage()], [0x58, 0, 0, 0, 4]);
  });
});
