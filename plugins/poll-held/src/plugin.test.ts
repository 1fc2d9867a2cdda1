import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, hasErrorCode, TimeoutError } from '@handyrep/plugin-sdk';
import type { HeldSqlSession, ServerDefinition, SqlRow } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { PollHeldConfig } from './config.js';
import { plugin } from './plugin.js';

const PASSWORD = 's3cr3t-Pa55';
const defaults: PollHeldConfig = { timeout_ms: 1000, database: '', keepalive_idle_ms: 10_000, unused_close_seconds: 300 };

function setup(config: Partial<PollHeldConfig> = {}) {
  const test = createTestContext<PollHeldConfig>({
    name: 'poll_held',
    config: { ...defaults, ...config },
    servers: [
      { name: 'db1', hostname: '127.0.0.11', role: 'master' },
      { name: 'db2', hostname: '127.0.0.12', role: 'replica' },
      { name: 'bouncer', hostname: '127.0.0.13', role: 'pgbouncer', port: 6432 },
    ],
    secrets: { superuser_password: PASSWORD },
  });
  test.sql.when(/pg_is_in_recovery/, [{ in_recovery: false }], 'db1').when(/pg_is_in_recovery/, [{ in_recovery: true }], 'db2').when(/pg_is_in_recovery/, [{ in_recovery: false }], 'bouncer');
  return test;
}

function errnoError(code: string): Error {
  const cause = Object.assign(new Error(`read ${code}`), { code });
  return new HandyRepError(ErrorCodes.SQL, `query failed on server db1: read ${code}`, { cause });
}

function sqlError(message: string, sqlState?: string): Error {
  return Object.assign(new HandyRepError(ErrorCodes.SQL, message), { sqlState });
}

describe('poll_held plugin', () => {
  it('passes the real core loader with its schema defaults', async () => {
    const report = await verifyPlugin('poll_held', { kind: 'poll', config: {} });
    assert.equal(report.packageName, '@handyrep/plugin-poll-held');
    assert.deepEqual(report.config, { timeout_ms: 2000, database: '', keepalive_idle_ms: 10_000, unused_close_seconds: 300 });
    await assert.rejects(verifyPlugin('poll_held', { kind: 'poll', config: { timeout_ms: 'soon' } }), /timeout_ms/);
  });

  it('opens one connection per server on the first poll and reuses it: one statement per poll', async () => {
    const test = setup({ database: 'pingdb' });
    const poll = await plugin.create(test.context);
    const first = await poll.poll('db1');
    assert.equal(first.result, 'SUCCESS');
    assert.equal(first.in_recovery, false);
    assert.match(first.details, /^db1 \(127\.0\.0\.11:5432\): accepting connections on a new held connection, not in recovery$/);
    const second = await poll.poll('db1');
    assert.match(second.details, /accepting connections on the held connection, not in recovery$/);
    const replica = await poll.poll('db2');
    assert.equal(replica.in_recovery, true);
    assert.equal(test.sql.held.length, 2, 'one connection per server');
    assert.deepEqual(test.sql.held[0]?.target, { server: 'db1', connectTimeoutMs: 1000, statementTimeoutMs: 1000, database: 'pingdb' });
    assert.deepEqual(test.sql.held[0]?.options, { keepAliveIdleMs: 10_000 });
    assert.equal(test.sql.queries.filter((q) => q.target.server === 'db1').length, 2);
  });

  it('polls a pgbouncer on a connection of its own each time, without statement_timeout as a startup parameter', async () => {
    const test = setup();
    const poll = await plugin.create(test.context);
    const first = await poll.poll('bouncer');
    assert.equal(first.result, 'SUCCESS');
    assert.match(first.details, /on a new connection \(a pooler: not held\)/);
    await poll.poll('bouncer');
    assert.equal(test.sql.held.length, 2, 'no connection kept: its session pool would hold a server connection that PAUSE waits for');
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(test.sql.held.every((session) => session.closed), true);
    assert.equal(test.sql.held[0]?.target.serverStatementTimeout, false);
  });

  it('a round trip that fails on the held connection (not silence) is followed at once by a new connection, whose outcome is the evidence', async () => {
    const cases: [Error, string, string | undefined][] = [
      [errnoError('ECONNRESET'), 'no_response', 'refused'],
      [sqlError('query failed on server db1: Connection terminated unexpectedly'), 'no_response', 'error'],
      [sqlError('server db1: terminating connection due to administrator command (SQLSTATE 57P01)', '57P01'), 'rejecting', undefined],
    ];
    for (const [error, state, failure] of cases) {
      const test = setup();
      const poll = await plugin.create(test.context);
      await poll.poll('db1');
      test.sql.when(/pg_is_in_recovery/, error, 'db1');
      const result = await poll.poll('db1');
      assert.equal(result.result, 'FAIL', error.message);
      assert.equal(result.state, state, error.message);
      assert.equal(result.failure, failure, error.message);
      assert.match(result.details, /the held connection failed \(.*\); the held connection failed: |the held connection failed \(.*\); opening a held connection failed: /);
      assert.equal(test.sql.held.length, 2, 'a new connection within the same poll');
      assert.equal(test.sql.held.every((session) => session.closed), true, 'both failed connections are closed');
      test.sql.when(/pg_is_in_recovery/, [{ in_recovery: false }], 'db1');
      const next = await poll.poll('db1');
      assert.equal(next.result, 'SUCCESS');
      assert.equal(test.sql.held.length, 3, 'reopened on the next poll');
    }
  });

  it('a killed server: the held connection ends, the new attempt is refused, and that is the evidence (certain death)', async () => {
    const test = setup();
    const poll = await plugin.create(test.context);
    await poll.poll('db1');
    test.sql.when(/pg_is_in_recovery/, sqlError('server db1: terminating connection due to unexpected postmaster exit (SQLSTATE 57P01)', '57P01'), 'db1');
    test.sql.failHold(() => sqlError('cannot connect to server db1: connect ECONNREFUSED 127.0.0.11:5432'));
    const result = await poll.poll('db1');
    assert.equal(result.state, 'no_response');
    assert.equal(result.failure, 'refused');
    assert.match(result.details, /the held connection failed \(rejecting connections: .*unexpected postmaster exit.*\); opening a held connection failed: no connection: .*ECONNREFUSED/);
  });

  it('a held connection that stays silent is the evidence itself: timeout, no second attempt, reopened on the next poll', async () => {
    const test = setup({ timeout_ms: 100 });
    const poll = await plugin.create(test.context);
    await poll.poll('db1');
    test.sql.when(/pg_is_in_recovery/, errnoError('ETIMEDOUT'), 'db1');
    const result = await poll.poll('db1');
    assert.equal(result.failure, 'timeout');
    assert.match(result.details, /^db1 \(127\.0\.0\.11:5432\): the held connection failed: no connection: /);
    assert.equal(test.sql.held.length, 1);
  });

  it('a connection lost between polls is replaced at once, and the poll says it had been lost', async () => {
    const test = setup();
    const poll = await plugin.create(test.context);
    await poll.poll('db1');
    test.sql.held[0]?.lose(errnoError('ECONNRESET'));
    const result = await poll.poll('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.match(result.details, /the held connection had been lost since the last poll \(.*ECONNRESET\); accepting connections on a new held connection/);
    assert.equal(test.sql.held.length, 2);
    assert.equal(test.sql.held[0]?.closed, true);
  });

  it('a connection that cannot be opened is classified as poll_connect would: refused, timeout, rejecting, bad_config', async () => {
    const cases: [Error, string, string | undefined][] = [
      [sqlError('cannot connect to server db1: connect ECONNREFUSED 127.0.0.11:5432'), 'no_response', 'refused'],
      [new TimeoutError('connecting to server db1 timed out after 1000 ms'), 'no_response', 'timeout'],
      [sqlError('cannot connect to server db1: connect EHOSTUNREACH 127.0.0.11:5432'), 'no_response', 'unreachable'],
      [sqlError('server db1: the database system is starting up (SQLSTATE 57P03)', '57P03'), 'rejecting', undefined],
      [sqlError('server db1: password authentication failed (SQLSTATE 28P01)', '28P01'), 'bad_config', undefined],
      [sqlError('server db1: sorry, too many clients already (SQLSTATE 53300)', '53300'), 'accepting', undefined],
    ];
    for (const [error, state, failure] of cases) {
      const test = setup();
      test.sql.failHold(() => error);
      const poll = await plugin.create(test.context);
      const result = await poll.poll('db1');
      assert.equal(result.state, state, error.message);
      assert.equal(result.failure, failure, error.message);
      assert.match(result.details, /opening a held connection failed: /);
      assert.equal(test.logger.lines.length, result.result === 'FAIL' ? 1 : 0, 'one debug line per failed poll');
    }
  });

  it('a round trip that gets no answer is no_response/timeout at timeout_ms, and that connection is cut', async () => {
    const test = setup({ timeout_ms: 200 });
    const poll = await plugin.create(test.context);
    await poll.poll('db1');
    const answer = test.sql.query.bind(test.sql);
    test.sql.query = <Row extends SqlRow>(...args: Parameters<typeof answer>): Promise<Row[]> => (args[0].server === 'db1' ? new Promise<Row[]>(() => undefined) : answer<Row>(...args));
    const started = performance.now();
    const result = await poll.poll('db1');
    const elapsed = performance.now() - started;
    assert.equal(result.state, 'no_response');
    assert.equal(result.failure, 'timeout');
    assert.match(result.details, /the held connection failed: no answer in time: poll of db1 got no answer within 200 ms/);
    assert.ok(elapsed >= 190 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(test.sql.held[0]?.closed, true);
  });

  it('an open that never completes is a timeout at timeout_ms, and the connection is closed when it arrives late', async () => {
    const test = setup({ timeout_ms: 150 });
    let arrive: (() => void) | undefined;
    const hold = test.sql.hold.bind(test.sql);
    test.sql.hold = (target, options) => new Promise<HeldSqlSession>((resolve) => (arrive = () => void hold(target, options).then(resolve)));
    const poll = await plugin.create(test.context);
    const result = await poll.poll('db1');
    assert.equal(result.failure, 'timeout');
    arrive?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(test.sql.held[0]?.closed, true, 'the late connection is not left open');
  });

  it('a changed address opens a new connection; connections unused for unused_close_seconds and all at close() are closed', async () => {
    const test = setup({ unused_close_seconds: 60 });
    const poll = await plugin.create(test.context);
    await poll.poll('db1');
    await poll.poll('db2');
    (test.context.servers.get('db1') as ServerDefinition).port = 5433;
    await poll.poll('db1');
    assert.equal(test.sql.held.length, 3);
    assert.equal(test.sql.held[0]?.closed, true, 'the connection to the old address is closed');
    test.clock.advance(61_000);
    await poll.poll('db1');
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(test.sql.held[1]?.closed, true, 'db2, not polled for 61 s, is closed');
    assert.equal(test.sql.held[2]?.closed, false);
    await poll.close?.();
    assert.equal(test.sql.held[2]?.closed, true);
  });

  it('refuses to start on a core whose SQL client cannot hold connections', () => {
    const test = setup();
    const { hold: _unused, ...withoutHold } = { hold: undefined, query: test.sql.query.bind(test.sql), withSession: test.sql.withSession.bind(test.sql), conninfo: test.sql.conninfo.bind(test.sql) };
    assert.throws(() => plugin.create({ ...test.context, sql: withoutHold }), (err: unknown) => hasErrorCode(err, ErrorCodes.NOT_SUPPORTED) && /poll_connect or poll_isready/.test(String(err)));
  });

  it('never puts the password into details or the log', async () => {
    const test = setup();
    test.sql.failHold(() => sqlError(`server db1: odd failure mentioning ${PASSWORD} (SQLSTATE 28P01)`, '28P01'));
    const result = await (await plugin.create(test.context)).poll('db1');
    assert.doesNotMatch(JSON.stringify(result), new RegExp(PASSWORD));
    assert.doesNotMatch(test.logger.text(), new RegExp(PASSWORD));
  });

  it('throws UnknownServerError for a server the registry does not know', async () => {
    const poll = await plugin.create(setup().context);
    await assert.rejects(poll.poll('ghost'), (err: unknown) => hasErrorCode(err, ErrorCodes.UNKNOWN_SERVER));
  });
});
