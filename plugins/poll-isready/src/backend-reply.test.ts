import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readBackendReply } from './backend-reply.js';

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value, 0);
  return buffer;
}

function errorResponse(fields: Record<string, string>): Buffer {
  const parts = Object.entries(fields).map(([code, value]) => Buffer.from(`${code}${value}\0`, 'utf8'));
  return message('E', Buffer.concat([...parts, Buffer.from([0])]));
}

const saslRequest = message('R', Buffer.concat([int32(10), Buffer.from('SCRAM-SHA-256\0\0', 'latin1')]));

describe('readBackendReply', () => {
  it('reads an authentication request (SASL) and its code', () => {
    assert.deepEqual(readBackendReply(saslRequest), { kind: 'authentication', code: 10 });
  });

  it('reads AuthenticationOk even with more messages behind it', () => {
    const ok = message('R', int32(0));
    assert.deepEqual(readBackendReply(Buffer.concat([ok, message('S', Buffer.from('a\0b\0'))])), { kind: 'authentication', code: 0 });
  });

  it('waits for the whole header and the auth code', () => {
    for (let cut = 0; cut < 9; cut++) assert.deepEqual(readBackendReply(saslRequest.subarray(0, cut)), { kind: 'incomplete' }, `cut at ${cut}`);
  });

  it('reads SQLSTATE and message of an ErrorResponse', () => {
    const reply = errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P03', M: 'the database system is starting up' });
    assert.deepEqual(readBackendReply(reply), { kind: 'error', sqlState: '57P03', message: 'the database system is starting up' });
  });

  it('waits for the whole ErrorResponse', () => {
    const reply = errorResponse({ S: 'FATAL', C: '28P01', M: 'password authentication failed for user "x"' });
    assert.deepEqual(readBackendReply(reply.subarray(0, reply.length - 1)), { kind: 'incomplete' });
    assert.equal(readBackendReply(reply).kind, 'error');
  });

  it('leaves the SQLSTATE undefined when the error has none or a malformed one', () => {
    assert.deepEqual(readBackendReply(errorResponse({ M: 'odd' })), { kind: 'error', sqlState: undefined, message: 'odd' });
    assert.equal((readBackendReply(errorResponse({ C: 'x', M: 'odd' })) as { sqlState?: string }).sqlState, undefined);
  });

  it('reads the pre-3.0 error text the postmaster sends when fork fails', () => {
    const reply = readBackendReply(Buffer.from('Ecould not fork new process for connection: Cannot allocate memory\n\0', 'latin1'));
    assert.deepEqual(reply, { kind: 'error', sqlState: undefined, message: 'could not fork new process for connection: Cannot allocate memory' });
  });

  it('skips NegotiateProtocolVersion and notices before the answer', () => {
    const negotiate = message('v', Buffer.concat([int32(0), int32(0)]));
    const notice = message('N', Buffer.from('Mhello\0\0'));
    assert.deepEqual(readBackendReply(Buffer.concat([negotiate, notice, saslRequest])), { kind: 'authentication', code: 10 });
    assert.deepEqual(readBackendReply(negotiate), { kind: 'incomplete' });
  });

  it('calls anything else not PostgreSQL, from the first byte on', () => {
    assert.equal(readBackendReply(Buffer.from('H')).kind, 'unexpected');
    assert.match(JSON.stringify(readBackendReply(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))), /'H'/);
    assert.match(JSON.stringify(readBackendReply(Buffer.from([0x16, 3, 1]))), /0x16/);
  });

  it('calls an authentication request of impossible length unexpected', () => {
    const bogus = Buffer.alloc(9);
    bogus.write('R', 0, 'latin1');
    bogus.writeInt32BE(1_000_000, 1);
    assert.equal(readBackendReply(bogus).kind, 'unexpected');
  });
});
