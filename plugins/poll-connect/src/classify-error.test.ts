import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadArgumentError, ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import { classifyPollError } from './classify-error.js';

/** An error shaped like the core's SqlError: code HR_SQL, the server's SQLSTATE, the pg error as cause. */
function sqlError(message: string, sqlState?: string, cause?: unknown): Error {
  const error = new HandyRepError(ErrorCodes.SQL, message, cause === undefined ? undefined : { cause });
  return Object.assign(error, { sqlState });
}

function errno(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect' });
}

describe('classifyPollError', () => {
  it('calls time-outs no_response, failure timeout', () => {
    const verdict = classifyPollError(new TimeoutError('connecting to server db1 timed out after 1000 ms'));
    assert.equal(verdict.state, 'no_response');
    assert.equal(verdict.failure, 'timeout');
  });

  it('calls cannot_connect_now, admin and crash shutdown rejecting', () => {
    for (const state of ['57P03', '57P01', '57P02']) assert.equal(classifyPollError(sqlError('x', state)).state, 'rejecting', state);
  });

  it('recognises the start-up and shutdown wording without a SQLSTATE', () => {
    for (const text of [
      'the database system is starting up',
      'the database system is shutting down',
      'the database system is not yet accepting connections',
      'the database system is not accepting connections',
      'the database system is in recovery mode',
    ]) {
      assert.equal(classifyPollError(sqlError(`cannot connect to server db1: ${text}`)).state, 'rejecting', text);
    }
  });

  it('calls authentication failures and a missing database bad_config', () => {
    for (const state of ['28P01', '28000', '3D000']) assert.equal(classifyPollError(sqlError('x', state)).state, 'bad_config', state);
    const noPassword = sqlError('cannot connect to server db1: SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string');
    const verdict = classifyPollError(noPassword);
    assert.equal(verdict.state, 'bad_config');
    assert.match(verdict.details, /superuser_password/);
    assert.equal(classifyPollError(new HandyRepError(ErrorCodes.SECRET_MISSING, "password 'x' is not set")).state, 'bad_config');
    assert.equal(classifyPollError(new BadArgumentError('server db1: invalid PostgreSQL port 0')).state, 'bad_config');
  });

  it('reads the SQLSTATE of a pg error found among the causes', () => {
    const pgError = Object.assign(new Error('the database system is starting up'), { code: '57P03', severity: 'FATAL' });
    assert.equal(classifyPollError(new HandyRepError(ErrorCodes.SQL, 'wrapped', { cause: pgError })).state, 'rejecting');
  });

  it('calls any other server error accepting, as PQping does', () => {
    const verdict = classifyPollError(sqlError('sorry, too many clients already (SQLSTATE 53300)', '53300'));
    assert.equal(verdict.state, 'accepting');
    assert.match(verdict.details, /up but refused this session.*53300/);
  });

  it('calls refused, reset and unexplained connection failures no_response', () => {
    assert.equal(classifyPollError(sqlError('cannot connect to server db1: connect ECONNREFUSED', undefined, errno('ECONNREFUSED'))).state, 'no_response');
    assert.equal(classifyPollError(sqlError('cannot connect to server db1: Connection terminated unexpectedly')).state, 'no_response');
    assert.equal(classifyPollError(new Error('something odd')).state, 'no_response');
    assert.equal(classifyPollError('a string').state, 'no_response');
  });

  it('says why no answer came: refused, unreachable, timeout or error', () => {
    const cases: [unknown, string][] = [
      [sqlError('cannot connect to server db1: connect ECONNREFUSED 127.0.0.1:5432', undefined, errno('ECONNREFUSED')), 'refused'],
      // The core drops a cause that would leak the password; the errno is still in its message.
      [sqlError('cannot connect to server db1: connect ECONNREFUSED 127.0.0.1:5432'), 'refused'],
      [sqlError('cannot connect to server db1: read ECONNRESET', undefined, errno('ECONNRESET')), 'refused'],
      [sqlError('cannot connect to server db1: connect EHOSTUNREACH', undefined, errno('EHOSTUNREACH')), 'unreachable'],
      [sqlError('cannot connect to server db1: connect ENETUNREACH', undefined, errno('ENETUNREACH')), 'unreachable'],
      [sqlError('getaddrinfo EAI_AGAIN db1', undefined, errno('EAI_AGAIN')), 'unreachable'],
      [sqlError('cannot connect to server db1: connect ETIMEDOUT', undefined, errno('ETIMEDOUT')), 'timeout'],
      [sqlError('cannot connect to server db1: Connection terminated unexpectedly'), 'error'],
      [new Error('something odd'), 'error'],
    ];
    for (const [err, failure] of cases) {
      const verdict = classifyPollError(err);
      assert.equal(verdict.state, 'no_response', String(err));
      assert.equal(verdict.failure, failure, String(err));
    }
  });

  it('gives no failure when the server itself answered', () => {
    assert.equal(classifyPollError(sqlError('x', '57P03')).failure, undefined);
    assert.equal(classifyPollError(sqlError('x', '28P01')).failure, undefined);
    assert.equal(classifyPollError(sqlError('x', '53300')).failure, undefined);
    assert.equal(classifyPollError(sqlError('the database system is starting up')).failure, undefined);
  });

  it('calls a host name that does not resolve bad_config, but a resolver outage no_response', () => {
    const nx = classifyPollError(sqlError('getaddrinfo ENOTFOUND nowhere.invalid', undefined, errno('ENOTFOUND')));
    assert.equal(nx.state, 'bad_config');
    assert.equal(nx.failure, 'unreachable');
    assert.equal(classifyPollError(sqlError('getaddrinfo EAI_AGAIN db1', undefined, errno('EAI_AGAIN'))).state, 'no_response');
  });

  it('keeps the error message in the details', () => {
    assert.match(classifyPollError(sqlError('server db1 (postgres@h:5432/postgres): boom', '57P03')).details, /rejecting connections: server db1 .*boom/);
  });
});
