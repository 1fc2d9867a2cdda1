import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError } from './errors.js';
import { confirmLeftRecovery, queryInRecovery, sessionInRecovery } from './postgres-checks.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeSql } from './testing/fake-sql.js';
import { MemoryLogger } from './testing/memory-logger.js';

const TARGET = { server: 'db2', connectTimeoutMs: 1500, statementTimeoutMs: 1500 };

/** A FakeSql answering pg_is_in_recovery() from a list, one per call (the last repeats). */
function answering(...answers: (boolean | null | Error)[]): FakeSql {
  let call = 0;
  return new FakeSql().respond((query) => {
    if (!/pg_is_in_recovery\(\)/.test(query.text)) return undefined;
    const answer = answers[Math.min(call++, answers.length - 1)];
    return answer instanceof Error ? answer : [{ in_recovery: answer }];
  });
}

describe('queryInRecovery', () => {
  it('returns the boolean, asking the given target', async () => {
    const sql = answering(true);
    assert.equal(await queryInRecovery(sql, TARGET), true);
    assert.deepEqual(sql.queries[0]?.target, TARGET);
    assert.equal(await queryInRecovery(answering(false), TARGET), false);
  });

  it('throws on anything but a boolean, naming the server', async () => {
    await assert.rejects(queryInRecovery(answering(null), TARGET), /pg_is_in_recovery\(\) on db2 returned null/);
    await assert.rejects(queryInRecovery(new FakeSql(), TARGET), /returned undefined/);
    const text = new FakeSql().when(/pg_is_in_recovery/, [{ in_recovery: 'f' }]);
    await assert.rejects(queryInRecovery(text, TARGET), /returned "f"/);
  });

  it('passes the SQL client error on', async () => {
    const down = answering(new HandyRepError(ErrorCodes.SQL, 'cannot connect to server db2'));
    await assert.rejects(queryInRecovery(down, TARGET), (err: unknown) => (err as HandyRepError).code === ErrorCodes.SQL);
  });
});

describe('sessionInRecovery', () => {
  it('asks inside the session it is given', async () => {
    const sql = answering(false, true);
    const answers = await sql.withSession(TARGET, async (session) => [await sessionInRecovery(session, 'db2'), await sessionInRecovery(session, 'db2')]);
    assert.deepEqual(answers, [false, true]);
    assert.equal(sql.queries.length, 2);
    await assert.rejects(answering(null).withSession(TARGET, (session) => sessionInRecovery(session, 'db2')), /on db2 returned null/);
  });
});

describe('confirmLeftRecovery', () => {
  it('confirms at the first check that says false', async () => {
    const clock = new FakeClock();
    const confirmation = await confirmLeftRecovery(answering(true, true, false), TARGET, { clock, logger: new MemoryLogger(), confirmMs: 10_000, intervalMs: 200 });
    assert.deepEqual(confirmation, { confirmed: true, checks: 3, last: 'out of recovery' });
  });

  it('retries errors until the deadline, logging them at debug', async () => {
    const clock = new FakeClock();
    const logger = new MemoryLogger();
    const started = clock.now();
    const confirmation = await confirmLeftRecovery(answering(new Error('the database system is shutting down'), false), TARGET, { clock, logger, confirmMs: 1000, intervalMs: 100 });
    assert.deepEqual(confirmation, { confirmed: true, checks: 2, last: 'out of recovery' });
    assert.equal(clock.now() - started, 100);
    assert.equal(logger.lines[0]?.level, 'debug');
  });

  it('gives up at the deadline with the last thing seen', async () => {
    const clock = new FakeClock();
    const started = clock.now();
    const stuck = await confirmLeftRecovery(answering(true), TARGET, { clock, logger: new MemoryLogger(), confirmMs: 1000, intervalMs: 250 });
    assert.deepEqual(stuck, { confirmed: false, checks: 5, last: 'still in recovery' });
    assert.equal(clock.now() - started, 1000);
    const failing = await confirmLeftRecovery(answering(new Error('boom')), TARGET, { clock, logger: new MemoryLogger(), confirmMs: 0, intervalMs: 250 });
    assert.deepEqual(failing, { confirmed: false, checks: 1, last: 'check failed: boom' });
  });
});
