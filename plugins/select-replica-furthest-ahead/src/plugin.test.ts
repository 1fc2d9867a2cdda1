import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasErrorCode } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './index.js';

describe('select_replica_furthest_ahead declaration', () => {
  it('loads through the real core loader', async () => {
    const report = await verifyPlugin('select_replica_furthest_ahead', { kind: 'replica_selection', config: {} });
    assert.equal(report.packageName, '@handyrep/plugin-select-replica-furthest-ahead');
    assert.deepEqual(report.methods, ['select']);
  });

  it('rejects keys it does not know', async () => {
    await assert.rejects(
      verifyPlugin('select_replica_furthest_ahead', { kind: 'replica_selection', config: { tie_breaker: 'random' } }),
      (err: unknown) => hasErrorCode(err, ErrorCodes.PLUGIN_CONFIG_INVALID),
    );
  });

  it('selects without touching SQL, shell or logs', async () => {
    const { context, sql, shell, logger } = createTestContext({ name: 'select_replica_furthest_ahead', config: {} });
    const instance = await plugin.create(context);
    const base = { status: 'healthy', reachable: true, in_recovery: true, received_lsn_bytes: 1n, lag_mb: 0, nofailover: false, failover_lag_limit: 10 };
    const selection = instance.select([
      { ...base, name: 'db2', failover_priority: 2, received_lsn_bytes: 9n },
      { ...base, name: 'db3', failover_priority: 1 },
    ]);
    assert.deepEqual(selection, { ordered: ['db2', 'db3'], excluded: [] });
    assert.equal(sql.queries.length + shell.commands.length + logger.lines.length, 0);
  });
});
