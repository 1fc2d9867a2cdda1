import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import { classifyProbeError } from './port-probe.js';

/** An error shaped like the core's SqlError: errno on the cause, SQLSTATE as `sqlState`. */
function sqlError(message: string, shape: { errno?: string; sqlState?: string } = {}): Error {
  const cause = shape.errno === undefined ? undefined : Object.assign(new Error(`connect ${shape.errno}`), { code: shape.errno });
  const err = new HandyRepError(ErrorCodes.SQL, message, cause === undefined ? undefined : { cause });
  return shape.sqlState === undefined ? err : Object.assign(err, { sqlState: shape.sqlState });
}

describe('classifyProbeError', () => {
  it('a refused TCP connection is "refused"', () => {
    assert.equal(classifyProbeError(sqlError('cannot connect to server db1: connect ECONNREFUSED 10.0.0.1:5432', { errno: 'ECONNREFUSED' })).state, 'refused');
  });

  it('finds ECONNREFUSED in the message when the cause was dropped', () => {
    assert.equal(classifyProbeError(sqlError('cannot connect to server db1: connect ECONNREFUSED 10.0.0.1:5432')).state, 'refused');
  });

  it('a time-out is "timeout", never "refused"', () => {
    assert.equal(classifyProbeError(new TimeoutError('connecting to server db1 timed out after 3000 ms')).state, 'timeout');
  });

  it('network errors are "unreachable"', () => {
    for (const errno of ['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']) {
      assert.equal(classifyProbeError(sqlError(`cannot connect: ${errno}`, { errno })).state, 'unreachable', errno);
    }
  });

  it('the kernel giving up on the connection (ETIMEDOUT) is "timeout", never "refused"', () => {
    assert.equal(classifyProbeError(sqlError('cannot connect: connect ETIMEDOUT 10.0.0.1:5432', { errno: 'ETIMEDOUT' })).state, 'timeout');
  });

  it('"the database system is shutting down" (57P03) is a postmaster that still answers', () => {
    assert.equal(classifyProbeError(sqlError('the database system is shutting down', { sqlState: '57P03' })).state, 'not_accepting');
  });

  it('a server-side refusal such as a bad password means the server is up and accepting', () => {
    assert.equal(classifyProbeError(sqlError('password authentication failed', { sqlState: '28P01' })).state, 'accepting');
    assert.equal(classifyProbeError(sqlError('sorry, too many clients already', { sqlState: '53300' })).state, 'accepting');
  });

  it('anything else is "error"', () => {
    assert.equal(classifyProbeError(sqlError('Connection terminated unexpectedly', { errno: 'ECONNRESET' })).state, 'error');
    assert.equal(classifyProbeError('weird').state, 'error');
  });
});
