import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasErrorCode, ErrorCodes } from '@handyrep/plugin-sdk';
import { verifyPlugin } from '@handyrep/plugin-sdk/testing';
import { plugin } from './index.js';

describe('replication_mb_lag declaration', () => {
  it('loads through the real core loader with its defaults', async () => {
    const report = await verifyPlugin('replication_mb_lag', { kind: 'replication_status', config: {} });
    assert.equal(report.name, 'replication_mb_lag');
    assert.equal(report.packageName, '@handyrep/plugin-replication-mb-lag');
    assert.deepEqual(report.config, { connect_timeout: 3, statement_timeout: 2, lag_position: 'replay' });
    assert.deepEqual([...report.methods].sort(), ['lag', 'position']);
  });

  it('coerces INI strings and rejects an unknown lag_position', async () => {
    const report = await verifyPlugin('replication_mb_lag', { kind: 'replication_status', config: { connect_timeout: '1.5', lag_position: 'flush' } });
    assert.equal(report.config['connect_timeout'], 1.5);
    await assert.rejects(
      verifyPlugin('replication_mb_lag', { kind: 'replication_status', config: { lag_position: 'apply' } }),
      (err: unknown) => hasErrorCode(err, ErrorCodes.PLUGIN_CONFIG_INVALID),
    );
    await assert.rejects(
      verifyPlugin('replication_mb_lag', { kind: 'replication_status', config: { statement_timeout: 0 } }),
      (err: unknown) => hasErrorCode(err, ErrorCodes.PLUGIN_CONFIG_INVALID),
    );
  });

  it('documents every config and server key with a default', () => {
    for (const schema of [plugin.configSchema, plugin.serverSchema]) {
      assert.ok(schema);
      for (const [key, property] of Object.entries(schema.properties)) {
        assert.ok(property.description, `${key} has a description`);
        assert.notEqual(property.default, undefined, `${key} has a default`);
      }
    }
  });
});
