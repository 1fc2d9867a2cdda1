import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from './errors.js';
import { pollFailureOf, pollResult } from './poll-result.js';

function errno(code: string): Error {
  return new HandyRepError(ErrorCodes.SQL, `cannot connect to server db1: connect ${code}`, { cause: Object.assign(new Error(code), { code }) });
}

describe('pollFailureOf', () => {
  it('maps connection errors to the poll failures', () => {
    assert.equal(pollFailureOf(errno('ECONNREFUSED')), 'refused');
    assert.equal(pollFailureOf(errno('ECONNRESET')), 'refused', 'a reset while connecting: nothing serves there');
    assert.equal(pollFailureOf(new TimeoutError('no answer')), 'timeout');
    assert.equal(pollFailureOf(errno('EHOSTUNREACH')), 'unreachable');
    assert.equal(pollFailureOf(errno('ENOTFOUND')), 'unreachable');
    assert.equal(pollFailureOf(new Error('Connection terminated unexpectedly')), 'error');
    assert.equal(pollFailureOf('odd'), 'error');
  });
});

describe('pollResult', () => {
  it('is SUCCESS for accepting, with in_recovery when known and never a failure', () => {
    assert.deepEqual(pollResult({ state: 'accepting', details: 'up', inRecovery: true }, 3.14159), { result: 'SUCCESS', details: 'up', state: 'accepting', in_recovery: true, duration_ms: 3.1 });
    assert.deepEqual(pollResult({ state: 'accepting', details: 'up', failure: 'timeout' }, 2), { result: 'SUCCESS', details: 'up', state: 'accepting', duration_ms: 2 });
  });

  it('is FAIL for every other state, with the failure when given and without in_recovery', () => {
    assert.deepEqual(pollResult({ state: 'no_response', details: 'refused', failure: 'refused', inRecovery: false }, 0.04), {
      result: 'FAIL',
      details: 'refused',
      state: 'no_response',
      failure: 'refused',
      duration_ms: 0,
    });
    assert.deepEqual(pollResult({ state: 'rejecting', details: 'starting up' }, 1), { result: 'FAIL', details: 'starting up', state: 'rejecting', duration_ms: 1 });
    assert.equal('failure' in pollResult({ state: 'bad_config', details: 'x' }, 1), false);
  });
});
