import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import type { ReplicationStatusPlugin, Secrets, SqlClient } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { TestContext, TestServer } from '@handyrep/plugin-sdk/testing';
import type { ReplicationMbLagConfig } from './config.js';
import type { LagResult } from './lag.js';
import { plugin } from './plugin.js';

const DEFAULTS: ReplicationMbLagConfig = { connect_timeout: 3, statement_timeout: 2, lag_position: 'replay' };
const SERVERS: TestServer[] = [
  { name: 'db1', role: 'master' },
  { name: 'db2', role: 'replica' },
  { name: 'db3', role: 'replica', replication_application_name: 'walreceiver_db3' },
];

async function setup(config: Partial<ReplicationMbLagConfig> = {}): Promise<{ tc: TestContext<ReplicationMbLagConfig>; instance: ReplicationStatusPlugin }> {
  const tc = createTestContext<ReplicationMbLagConfig>({
    name: 'replication_mb_lag',
    config: { ...DEFAULTS, ...config },
    servers: SERVERS,
    secrets: { superuser_password: 'sekrit-pw' },
  });
  return { tc, instance: await plugin.create(tc.context) };
}

const row = (fields: Record<string, unknown>) => ({
  in_recovery: false,
  upstream_lsn: '0/5000000',
  state: 'streaming',
  measured_lsn: '0/5000000',
  lag_bytes: '0',
  ...fields,
});

const lagOf = async (instance: ReplicationStatusPlugin, master: string, replica: string) => (await instance.lag(master, replica)) as LagResult;

describe('replication_mb_lag lag()', () => {
  it('queries the master with short time-outs, by the replica name, for the replay position', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_replication/, [row({ lag_bytes: '20971520', measured_lsn: '0/3C00000' })]);
    const lag = await lagOf(instance, 'db1', 'db2');
    assert.equal(tc.sql.queries.length, 1);
    const [query] = tc.sql.queries;
    assert.deepEqual(query?.target, { server: 'db1', connectTimeoutMs: 3000, statementTimeoutMs: 2000 });
    assert.deepEqual(query?.params, ['db2']);
    assert.match(query?.text ?? '', /pg_wal_lsn_diff\(s\.upstream_lsn, r\.replay_lsn\)/);
    assert.deepEqual(lag, {
      result: 'SUCCESS',
      details: 'db2 replay lag behind db1: 20 MB (20971520 bytes), state streaming',
      lag_bytes: 20971520,
      lag_mb: 20,
      connected: true,
      state: 'streaming',
      measured: 'replay',
      master_lsn: '0/5000000',
      replica_lsn: '0/3C00000',
      error_code: null,
    });
  });

  const positions: [ReplicationMbLagConfig['lag_position'], string][] = [
    ['replay', 'replay_lsn'],
    ['flush', 'flush_lsn'],
    ['write', 'write_lsn'],
    ['sent', 'sent_lsn'],
  ];
  for (const [position, column] of positions) {
    it(`lag_position ${position} measures ${column}`, async () => {
      const { tc, instance } = await setup({ lag_position: position });
      tc.sql.when(/pg_stat_replication/, [row({})]);
      const lag = await lagOf(instance, 'db1', 'db2');
      assert.equal(lag.measured, position);
      const text = tc.sql.queries[0]?.text ?? '';
      assert.match(text, new RegExp(`r\\.${column}::text AS measured_lsn`));
      for (const [, other] of positions) if (other !== column) assert.doesNotMatch(text, new RegExp(other));
    });
  }

  it('rounds MB to three decimals and keeps exact bytes', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_replication/, [row({ lag_bytes: 1536 })]);
    const lag = await lagOf(instance, 'db1', 'db2');
    assert.equal(lag.lag_bytes, 1536);
    assert.equal(lag.lag_mb, 0.001);
  });

  it('finds a replica by replication_application_name when set', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_replication/, [row({})]);
    await instance.lag('db1', 'db3');
    assert.deepEqual(tc.sql.queries[0]?.params, ['walreceiver_db3']);
  });

  it('answers SUCCESS with connected false when the master does not list the replica', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_replication/, [row({ state: null, measured_lsn: null, lag_bytes: null })]);
    const lag = await lagOf(instance, 'db1', 'db2');
    assert.equal(lag.result, 'SUCCESS');
    assert.equal(lag.connected, false);
    assert.equal(lag.lag_bytes, null);
    assert.equal(lag.lag_mb, null);
    assert.equal(lag.master_lsn, '0/5000000');
    assert.match(lag.details, /db2 is not connected to db1: no pg_stat_replication row with application_name 'db2'/);
  });

  it('answers connected with unknown lag while the replica has not reported its position', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_replication/, [row({ state: 'startup', measured_lsn: null, lag_bytes: null })]);
    const lag = await lagOf(instance, 'db1', 'db2');
    assert.equal(lag.result, 'SUCCESS');
    assert.equal(lag.connected, true);
    assert.equal(lag.state, 'startup');
    assert.equal(lag.lag_bytes, null);
    assert.match(lag.details, /state startup.*not known yet/);
  });

  it('never reports negative lag (a replica ahead of a cascading upstream)', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_replication/, [row({ in_recovery: true, lag_bytes: '-4096' })]);
    const lag = await lagOf(instance, 'db2', 'db3');
    assert.equal(lag.lag_bytes, 0);
    assert.equal(lag.lag_mb, 0);
  });

  const failures: [string, Error, string][] = [
    ['a time-out', new TimeoutError('connecting to server db1 timed out after 3000 ms'), ErrorCodes.TIMEOUT],
    ['an SQL error', new HandyRepError(ErrorCodes.SQL, 'cannot connect to server db1: ECONNREFUSED'), ErrorCodes.SQL],
  ];
  for (const [what, error, code] of failures) {
    it(`answers FAIL with the error code on ${what}`, async () => {
      const { tc, instance } = await setup();
      tc.sql.when(/pg_stat_replication/, error);
      const lag = await lagOf(instance, 'db1', 'db2');
      assert.equal(lag.result, 'FAIL');
      assert.equal(lag.error_code, code);
      assert.equal(lag.lag_bytes, null);
      assert.equal(lag.connected, false);
      assert.equal(lag.details, `cannot read the lag of db2 on db1: ${error.message}`);
    });
  }

  it('answers FAIL for an unknown server without querying', async () => {
    const { tc, instance } = await setup();
    for (const [master, replica] of [['db1', 'nope'], ['nope', 'db2']] as const) {
      const lag = await lagOf(instance, master, replica);
      assert.equal(lag.result, 'FAIL');
      assert.equal(lag.error_code, ErrorCodes.UNKNOWN_SERVER);
      assert.match(lag.details, /unknown server 'nope'/);
    }
    assert.equal(tc.sql.queries.length, 0);
  });

  it('gives up on a SQL client that never answers, after connect + statement time-out and a grace', async () => {
    const { tc } = await setup({ connect_timeout: 0.05, statement_timeout: 0.05 });
    const hanging: SqlClient = { ...tc.sql, query: () => new Promise(() => {}), conninfo: () => '', withSession: () => new Promise(() => {}) };
    const instance = await plugin.create({ ...tc.context, sql: hanging });
    const started = Date.now();
    const lag = (await instance.lag('db1', 'db2')) as LagResult;
    const took = Date.now() - started;
    assert.equal(lag.result, 'FAIL');
    assert.equal(lag.error_code, ErrorCodes.TIMEOUT);
    assert.ok(took >= 1000 && took < 3000, `took ${took} ms`);
  });

  it('never reads [passwords] and never returns or logs one', async () => {
    const { tc } = await setup();
    const touched: string[] = [];
    const secrets: Secrets = {
      get: (key) => (touched.push(key), undefined),
      require: (key) => (touched.push(key), ''),
    };
    const instance = await plugin.create({ ...tc.context, secrets });
    tc.sql.when(/pg_stat_replication/, [row({ lag_bytes: '100' })]);
    const results = [await instance.lag('db1', 'db2'), await instance.position('db2')];
    assert.deepEqual(touched, []);
    assert.doesNotMatch(JSON.stringify(results) + tc.logger.text(), /sekrit-pw/);
  });
});
