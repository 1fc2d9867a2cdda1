import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, hasErrorCode, TimeoutError } from '@handyrep/plugin-sdk';
import type { SqlClient, SqlRow } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { PollConnectConfig } from './config.js';
import { plugin } from './plugin.js';

const PASSWORD = 's3cr3t-Pa55';
const defaults: PollConnectConfig = { timeout_ms: 3000, database: '' };

function setup(config: Partial<PollConnectConfig> = {}) {
  return createTestContext<PollConnectConfig>({
    name: 'poll_connect',
    config: { ...defaults, ...config },
    servers: [
      { name: 'db1', hostname: '127.0.0.11', role: 'master' },
      { name: 'db2', hostname: '127.0.0.12', role: 'replica' },
    ],
    secrets: { superuser_password: PASSWORD },
  });
}

function sqlError(message: string, sqlState?: string): Error {
  return Object.assign(new HandyRepError(ErrorCodes.SQL, message), { sqlState });
}

describe('poll_connect plugin', () => {
  it('passes the real core loader with its schema defaults', async () => {
    const report = await verifyPlugin('poll_connect', { kind: 'poll', config: {} });
    assert.equal(report.packageName, '@handyrep/plugin-poll-connect');
    assert.deepEqual(report.config, { timeout_ms: 3000, database: '' });
    await assert.rejects(verifyPlugin('poll_connect', { kind: 'poll', config: { timeout_ms: 'soon' } }), /timeout_ms/);
  });

  it('reports accepting with in_recovery false on a master and true on a standby', async () => {
    const test = setup();
    test.sql.when(/pg_is_in_recovery/, [{ in_recovery: false }], 'db1').when(/pg_is_in_recovery/, [{ in_recovery: true }], 'db2');
    const poll = await plugin.create(test.context);
    const master = await poll.poll('db1');
    assert.equal(master.result, 'SUCCESS');
    assert.equal(master.state, 'accepting');
    assert.equal(master.in_recovery, false);
    assert.equal('failure' in master, false);
    assert.match(master.details, /^db1 \(127\.0\.0\.11:5432\): accepting connections, not in recovery$/);
    const replica = await poll.poll('db2');
    assert.equal(replica.in_recovery, true);
    assert.match(replica.details, /in recovery \(standby\)/);
    assert.ok(replica.duration_ms >= 0);
  });

  it('hands the time-out to the SQL client as connect and statement time-out, and the database when set', async () => {
    const test = setup({ timeout_ms: 1500, database: 'pingdb' });
    test.sql.when(/pg_is_in_recovery/, [{ in_recovery: false }]);
    await (await plugin.create(test.context)).poll('db1');
    assert.deepEqual(test.sql.queries[0]?.target, { server: 'db1', connectTimeoutMs: 1500, statementTimeoutMs: 1500, database: 'pingdb' });
    const plain = setup();
    plain.sql.when(/pg_is_in_recovery/, [{ in_recovery: false }]);
    await (await plugin.create(plain.context)).poll('db1');
    assert.equal(plain.sql.queries[0]?.target.database, undefined, 'empty database leaves the core default');
  });

  it('maps the SQL client errors to poll states and failures, all FAIL', async () => {
    const cases: [Error, string, string | undefined][] = [
      [new TimeoutError('connecting to server db1 timed out after 3000 ms'), 'no_response', 'timeout'],
      [sqlError('cannot connect to server db1: connect ECONNREFUSED 127.0.0.11:5432'), 'no_response', 'refused'],
      [sqlError('cannot connect to server db1: connect EHOSTUNREACH 127.0.0.11:5432'), 'no_response', 'unreachable'],
      [sqlError('cannot connect to server db1: Connection terminated unexpectedly'), 'no_response', 'error'],
      [sqlError('server db1: the database system is starting up (SQLSTATE 57P03)', '57P03'), 'rejecting', undefined],
      [sqlError('server db1: password authentication failed for user "postgres" (SQLSTATE 28P01)', '28P01'), 'bad_config', undefined],
    ];
    for (const [error, state, failure] of cases) {
      const test = setup();
      test.sql.when(/pg_is_in_recovery/, error);
      const result = await (await plugin.create(test.context)).poll('db1');
      assert.equal(result.result, 'FAIL', error.message);
      assert.equal(result.state, state, error.message);
      assert.equal(result.failure, failure, error.message);
      assert.equal(result.in_recovery, undefined);
      assert.equal(test.logger.lines.length, 1, 'one debug line per failed poll');
    }
  });

  it('is SUCCESS without in_recovery when the server is up but refuses the session', async () => {
    const test = setup();
    test.sql.when(/pg_is_in_recovery/, sqlError('server db1: sorry, too many clients already (SQLSTATE 53300)', '53300'));
    const result = await (await plugin.create(test.context)).poll('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.state, 'accepting');
    assert.equal('in_recovery' in result, false);
  });

  it('returns no_response at its own deadline when the SQL client does not come back', async () => {
    const test = setup({ timeout_ms: 200 });
    let release: (() => void) | undefined;
    const hanging: SqlClient = {
      withSession: (target, work) => test.sql.withSession(target, work),
      conninfo: (target) => test.sql.conninfo(target),
      query: <Row extends SqlRow>() =>
        new Promise<Row[]>((_, reject) => {
          release = () => reject(new Error('ended much later'));
        }),
    };
    const poll = await plugin.create({ ...test.context, sql: hanging });
    const started = performance.now();
    const result = await poll.poll('db1');
    const elapsed = performance.now() - started;
    assert.equal(result.state, 'no_response');
    assert.equal(result.failure, 'timeout');
    assert.match(result.details, /no answer within 200 ms/);
    assert.ok(elapsed >= 190 && elapsed < 1500, `took ${elapsed} ms`);
    release?.();
  });

  it('never puts the password into details or the log', async () => {
    const test = setup();
    test.sql.when(/pg_is_in_recovery/, sqlError(`server db1: odd failure mentioning ${PASSWORD} (SQLSTATE 28P01)`, '28P01'));
    const result = await (await plugin.create(test.context)).poll('db1');
    assert.equal(result.state, 'bad_config');
    assert.doesNotMatch(JSON.stringify(result), new RegExp(PASSWORD));
    assert.doesNotMatch(test.logger.text(), new RegExp(PASSWORD));
    assert.match(result.details, /\*\*\*/);
  });

  it('throws UnknownServerError for a server the registry does not know', async () => {
    const poll = await plugin.create(setup().context);
    await assert.rejects(poll.poll('ghost'), (err: unknown) => hasErrorCode(err, ErrorCodes.UNKNOWN_SERVER));
  });
});
