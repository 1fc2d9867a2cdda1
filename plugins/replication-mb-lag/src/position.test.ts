import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, parseLsn, TimeoutError } from '@handyrep/plugin-sdk';
import type { ReplicationStatusPlugin } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { ReplicationMbLagConfig } from './config.js';
import { plugin } from './plugin.js';
import type { PositionResult } from './position.js';

async function setup(): Promise<{ tc: TestContext<ReplicationMbLagConfig>; instance: ReplicationStatusPlugin }> {
  const tc = createTestContext<ReplicationMbLagConfig>({
    name: 'replication_mb_lag',
    config: { connect_timeout: 1, statement_timeout: 0.5, lag_position: 'replay' },
    servers: [{ name: 'db1', role: 'master' }, { name: 'db2' }],
  });
  return { tc, instance: await plugin.create(tc.context) };
}

const positionOf = async (instance: ReplicationStatusPlugin, server: string) => (await instance.position(server)) as PositionResult;

describe('replication_mb_lag position()', () => {
  it('reads positions and the WAL receiver on the replica itself, with its time-outs', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_wal_receiver/, [
      {
        in_recovery: true,
        received_lsn: '0/3000148',
        replayed_lsn: '0/3000060',
        status: 'streaming',
        sender_host: '127.0.0.11',
        last_msg_age_ms: 312,
        wal_receiver_timeout_ms: '60000',
      },
    ]);
    const position = await positionOf(instance, 'db2');
    const [query] = tc.sql.queries;
    assert.deepEqual(query?.target, { server: 'db2', connectTimeoutMs: 1000, statementTimeoutMs: 500 });
    assert.match(query?.text ?? '', /clock_timestamp\(\) - w\.last_msg_receipt_time/);
    assert.deepEqual(position, {
      result: 'SUCCESS',
      details: 'db2 is in recovery, WAL receiver streaming from 127.0.0.11 (last message 312 ms ago); received 0/3000148, replayed 0/3000060',
      received_lsn: '0/3000148',
      replayed_lsn: '0/3000060',
      in_recovery: true,
      receiver_status: 'streaming',
      sender_host: '127.0.0.11',
      last_msg_age_ms: 312,
      wal_receiver_timeout_ms: 60000,
      error_code: null,
    });
    assert.ok((parseLsn(position.received_lsn) ?? 0n) >= (parseLsn(position.replayed_lsn) ?? 0n));
  });

  it('reports a replica without a WAL receiver', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_wal_receiver/, [
      { in_recovery: true, received_lsn: '0/3000148', replayed_lsn: '0/3000148', status: null, sender_host: null, last_msg_age_ms: null, wal_receiver_timeout_ms: '60000' },
    ]);
    const position = await positionOf(instance, 'db2');
    assert.equal(position.result, 'SUCCESS');
    assert.equal(position.receiver_status, null);
    assert.equal(position.last_msg_age_ms, null);
    assert.equal(position.details, 'db2 is in recovery with no WAL receiver running; received 0/3000148, replayed 0/3000148');
  });

  it('answers on a master: not in recovery, its current position for both', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_wal_receiver/, [
      { in_recovery: false, received_lsn: '0/5000000', replayed_lsn: '0/5000000', status: null, sender_host: null, last_msg_age_ms: null, wal_receiver_timeout_ms: 60000 },
    ]);
    const position = await positionOf(instance, 'db1');
    assert.equal(position.result, 'SUCCESS');
    assert.equal(position.in_recovery, false);
    assert.equal(position.received_lsn, '0/5000000');
    assert.equal(position.details, 'db1 is not in recovery (a master); its current WAL position is 0/5000000');
  });

  it('answers FAIL with the error code when the server cannot be asked', async () => {
    const { tc, instance } = await setup();
    tc.sql.when(/pg_stat_wal_receiver/, new TimeoutError('connecting to server db2 timed out after 1000 ms'));
    const position = await positionOf(instance, 'db2');
    assert.equal(position.result, 'FAIL');
    assert.equal(position.error_code, ErrorCodes.TIMEOUT);
    assert.equal(position.details, 'cannot read the WAL position of db2: connecting to server db2 timed out after 1000 ms');
    assert.equal(position.received_lsn, null);
    assert.equal(position.receiver_status, null);
  });

  it('answers FAIL for an unknown server and for an empty answer', async () => {
    const { tc, instance } = await setup();
    const unknown = await positionOf(instance, 'db9');
    assert.equal(unknown.error_code, ErrorCodes.UNKNOWN_SERVER);
    assert.equal(tc.sql.queries.length, 0);
    const empty = await positionOf(instance, 'db2');
    assert.equal(empty.result, 'FAIL');
    assert.match(empty.details, /returned no row/);
  });
});
