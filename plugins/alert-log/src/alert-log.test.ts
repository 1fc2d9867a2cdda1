import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert, AlertSeverity } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { AlertLogConfig } from './config.js';
import { plugin } from './plugin.js';

const AT = Date.UTC(2026, 4, 1, 12, 30, 0);

function alert(severity: AlertSeverity, extra: Partial<Alert> = {}): Alert {
  return { type: 'failover_started', severity, message: 'failover from db1 started', at: AT, ...extra };
}

async function setup(min_severity: AlertSeverity = 'info') {
  const kit = createTestContext<AlertLogConfig>({ name: 'alert_log', config: { min_severity }, secrets: { superuser_password: 'pg-secret' } });
  return { sender: await plugin.create(kit.context), logger: kit.logger };
}

describe('alert_log', () => {
  it('logs critical as error, warning as warn, info as info, with the alert fields', async () => {
    const { sender, logger } = await setup();
    for (const severity of ['critical', 'warning', 'info'] as const) {
      const result = await sender.send(alert(severity, { server: 'db1', cluster_status: 'warning' }));
      assert.equal(result.result, 'SUCCESS');
      assert.equal((result as { sent?: boolean }).sent, true);
    }
    assert.deepEqual(
      logger.lines.map((line) => line.level),
      ['error', 'warn', 'info'],
    );
    assert.equal(logger.lines[0]?.message, 'ALERT critical failover_started: failover from db1 started');
    assert.deepEqual(logger.lines[0]?.fields, {
      alert: 'failover_started',
      severity: 'critical',
      server: 'db1',
      cluster_status: 'warning',
      at: '2026-05-01T12:30:00.000Z',
    });
  });

  it('an alert without server or cluster status logs them as null', async () => {
    const { sender, logger } = await setup();
    await sender.send(alert('critical', { type: 'internal_error', message: 'loop threw' }));
    assert.equal(logger.lines[0]?.fields?.['server'], null);
    assert.equal(logger.lines[0]?.fields?.['cluster_status'], null);
  });

  it('skips alerts below min_severity, reporting SUCCESS with sent false', async () => {
    const { sender, logger } = await setup('warning');
    const skipped = await sender.send(alert('info'));
    assert.equal(skipped.result, 'SUCCESS');
    assert.equal((skipped as { sent?: boolean }).sent, false);
    assert.match(skipped.details, /below min_severity warning/);
    await sender.send(alert('warning'));
    await sender.send(alert('critical'));
    assert.deepEqual(logger.lines.map((line) => line.level), ['warn', 'error']);
  });

  it('min_severity critical keeps only critical alerts', async () => {
    const { sender, logger } = await setup('critical');
    await sender.send(alert('info'));
    await sender.send(alert('warning'));
    await sender.send(alert('critical'));
    assert.deepEqual(logger.lines.map((line) => line.level), ['error']);
  });

  it('loads through the real core loader with its defaults; rejects an unknown severity', async () => {
    const report = await verifyPlugin('alert_log', { kind: 'alert', config: {} });
    assert.deepEqual(report.config, { min_severity: 'info' });
    await assert.rejects(verifyPlugin('alert_log', { kind: 'alert', config: { min_severity: 'debug' } }), /min_severity/);
  });
});
