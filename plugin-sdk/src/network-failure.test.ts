import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from './errors.js';
import { errnoCodesOf, networkFailureOf } from './network-failure.js';

/** An operating-system error as node:net raises it. */
function errno(code: string, message = `connect ${code} 127.0.0.1:5432`): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

/** The core's shape: a coded error with the OS error as its cause. */
function wrapped(cause: unknown, message = 'cannot connect to server db1'): Error {
  return new HandyRepError(ErrorCodes.SQL, message, { cause });
}

describe('errnoCodesOf', () => {
  it('reads the code of the error and of its causes, outermost first', () => {
    assert.deepEqual(errnoCodesOf(wrapped(errno('ECONNREFUSED'))), ['ECONNREFUSED']);
    assert.deepEqual(errnoCodesOf(wrapped(wrapped(errno('EHOSTUNREACH')))), ['EHOSTUNREACH']);
  });

  it('ignores codes that are not errno names (HR_ codes, SQLSTATEs)', () => {
    const pg = Object.assign(new Error('the database system is starting up'), { code: '57P03', severity: 'FATAL' });
    assert.deepEqual(errnoCodesOf(wrapped(pg, 'x')), []);
  });

  it('finds a code named in the message when the cause was dropped', () => {
    assert.deepEqual(errnoCodesOf(new HandyRepError(ErrorCodes.SQL, 'cannot connect to server db1: connect ECONNREFUSED 10.0.0.1:5432')), ['ECONNREFUSED']);
    assert.deepEqual(errnoCodesOf('getaddrinfo ENOTFOUND db1.invalid'), ['ENOTFOUND']);
    assert.deepEqual(errnoCodesOf(null), []);
  });

  it('lists a code found both ways once', () => {
    assert.deepEqual(errnoCodesOf(errno('ECONNRESET', 'read ECONNRESET')), ['ECONNRESET']);
  });
});

describe('networkFailureOf', () => {
  it('calls a refused connection refused', () => {
    assert.equal(networkFailureOf(wrapped(errno('ECONNREFUSED'))), 'refused');
  });

  it('keeps a reset apart from a refusal', () => {
    for (const code of ['ECONNRESET', 'EPIPE']) assert.equal(networkFailureOf(errno(code)), 'reset', code);
  });

  it('calls a HandyRep time-out and ETIMEDOUT timeout', () => {
    assert.equal(networkFailureOf(new TimeoutError('connecting to server db1 timed out after 1000 ms')), 'timeout');
    assert.equal(networkFailureOf(new TimeoutError('timed out', { cause: errno('ECONNREFUSED') })), 'timeout', 'the time-out is what the caller saw');
    assert.equal(networkFailureOf(errno('ETIMEDOUT')), 'timeout');
  });

  it('calls routing and name failures unreachable', () => {
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']) {
      assert.equal(networkFailureOf(wrapped(errno(code))), 'unreachable', code);
    }
  });

  it('has nothing to say about other errors', () => {
    assert.equal(networkFailureOf(new Error('Connection terminated unexpectedly')), undefined);
    assert.equal(networkFailureOf(new HandyRepError(ErrorCodes.SQL, 'ERROR: relation "x" does not exist')), undefined);
    assert.equal(networkFailureOf(undefined), undefined);
  });
});
