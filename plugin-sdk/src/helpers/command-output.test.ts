import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError } from '../errors.js';
import { createTestContext } from '../testing/test-context.js';
import {
  cleanOutput,
  commandFields,
  commandReason,
  failFromError,
  lastLines,
  maskPasswords,
  MAX_OUTPUT_CHARS,
  timedServerAction,
  trimOutput,
} from './command-output.js';

const secrets = createTestContext({ secrets: { superuser_password: 's3cret', replication_password: 'r:pw', other: 'kept' } }).context.secrets;

function result(over: { exitCode?: number | null; stdout?: string; stderr?: string }) {
  return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...over };
}

describe('tool output for return dictionaries', () => {
  it('trims and keeps the end of long output', () => {
    assert.equal(trimOutput('  short \n'), 'short');
    const long = `${'a'.repeat(MAX_OUTPUT_CHARS)}THE END`;
    assert.equal(trimOutput(long), `...${long.slice(-MAX_OUTPUT_CHARS)}`);
    assert.ok(trimOutput(long).endsWith('THE END'));
  });

  it('masks every configured password (superuser and replication by default), then trims', () => {
    assert.equal(maskPasswords('a s3cret b r:pw c kept', secrets), 'a *** b *** c kept');
    assert.equal(maskPasswords('kept', secrets, ['other']), '***');
    assert.equal(cleanOutput('\n FATAL: password s3cret rejected s3cret \n', secrets), 'FATAL: password *** rejected ***');
    const empty = createTestContext({ secrets: { superuser_password: '' } }).context.secrets;
    assert.equal(cleanOutput(' x ', empty), 'x');
  });

  it('keeps the last non-empty lines on one line', () => {
    assert.equal(lastLines('one\n\n two \nthree\nfour\n'), 'two / three / four');
    assert.equal(lastLines('one\ntwo', 1), 'two');
  });

  it('maps a finished command to exit_code/stderr and a reason: stderr, else stdout, else the exit status', () => {
    assert.deepEqual(commandFields(result({ exitCode: 2, stderr: ' no \n' })), { exit_code: 2, stderr: 'no' });
    assert.equal(commandReason(result({ exitCode: 1, stderr: 'err', stdout: 'out' })), 'err');
    assert.equal(commandReason(result({ exitCode: 1, stdout: 'out' })), 'out');
    assert.equal(commandReason(result({ exitCode: 5 })), 'exit 5');
    assert.equal(commandReason(result({ exitCode: null })), 'exit by signal');
  });
});

describe('failFromError', () => {
  it('says what failed, keeps the extra keys and carries the thrown code', () => {
    const failed = failFromError('start on db1', new TimeoutError('no answer'), { duration_ms: 3 });
    assert.deepEqual(failed, { result: 'FAIL', details: 'start on db1 failed: no answer', duration_ms: 3, error_code: 'HR_TIMEOUT' });
    assert.deepEqual(failFromError('x', 'plain string'), { result: 'FAIL', details: 'x failed: plain string', error_code: null });
    assert.equal(failFromError('x', null).error_code, null);
  });

  it('passes the message through clean', () => {
    assert.equal(failFromError('clone', new Error('password s3cret'), {}, (text) => cleanOutput(text, secrets)).details, 'clone failed: password ***');
  });
});

describe('timedServerAction', () => {
  it('adds duration_ms from the clock', async () => {
    const { context, clock } = createTestContext();
    const done = await timedServerAction(context, 'stop', 'db1', async () => {
      clock.advance(25);
      return { result: 'SUCCESS', details: 'ok' };
    });
    assert.deepEqual(done, { result: 'SUCCESS', details: 'ok', duration_ms: 25 });
  });

  it('turns a throw into a logged FAIL with its error code', async () => {
    const { context, logger } = createTestContext();
    const done = await timedServerAction(context, 'poll', 'db2', async () => {
      throw new TimeoutError('ssh got no answer');
    });
    assert.deepEqual(done, { result: 'FAIL', details: 'poll on db2 failed: ssh got no answer', error_code: 'HR_TIMEOUT', duration_ms: 0 });
    assert.deepEqual(logger.lines, [{ level: 'warn', message: done.details, fields: { server: 'db2', action: 'poll' } }]);
  });
});
