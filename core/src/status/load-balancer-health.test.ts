import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerDefinition, ServerStatusName } from '@handyrep/plugin-sdk';
import { answerHealthCheck } from './load-balancer-health.js';
import type { HealthCheck } from './load-balancer-health.js';
import { serverStatus, unknownServerStatus } from './server-status.js';

/** A server written as `name:role:status[:disabled]`. */
function s(spec: string): ServerDefinition {
  const [name = '', role = '', status = 'unknown', disabled] = spec.split(':');
  const fields = status === 'unknown' ? unknownServerStatus() : serverStatus(status as ServerStatusName, `${name} is ${status}`, 0);
  return { name, hostname: `${name}.example`, role, enabled: disabled !== 'disabled', port: 5432, ...fields };
}

function code(check: HealthCheck, servers: string[], lag: Record<string, number> = {}): number {
  return answerHealthCheck(check, servers.map(s), (name) => lag[name]).status;
}

describe('answerHealthCheck: master', () => {
  const cluster = ['pg1:master:healthy', 'pg2:replica:healthy', 'pg3:replica:healthy'];

  it('answers 200 "master" for the one enabled master, by name or without one', () => {
    assert.deepEqual(answerHealthCheck({ role: 'master' }, cluster.map(s), () => undefined), { status: 200, word: 'master' });
    assert.equal(code({ role: 'master', server: 'pg1' }, cluster), 200);
  });

  it('answers 503 for a replica, an unknown name and a master that is not the one named', () => {
    assert.deepEqual(answerHealthCheck({ role: 'master', server: 'pg2' }, cluster.map(s), () => undefined), { status: 503, word: 'unavailable' });
    assert.equal(code({ role: 'master', server: 'nosuch' }, cluster), 503);
  });

  it('counts the master statuses the cluster status calls viable, and no other', () => {
    for (const [status, expected] of [
      ['healthy', 200],
      ['lagged', 200],
      ['warning', 200],
      ['unknown', 503],
      ['unavailable', 503],
      ['down', 503],
    ] as const) {
      assert.equal(code({ role: 'master', server: 'pg1' }, [`pg1:master:${status}`, 'pg2:replica:healthy']), expected, status);
    }
  });

  it('never answers 200 for a disabled former master, nor for either of two enabled masters', () => {
    const afterFailover = ['pg1:master:down:disabled', 'pg2:master:healthy', 'pg3:replica:healthy'];
    assert.equal(code({ role: 'master', server: 'pg1' }, afterFailover), 503);
    assert.equal(code({ role: 'master', server: 'pg2' }, afterFailover), 200);
    const twoMasters = ['pg1:master:healthy', 'pg2:master:healthy'];
    assert.equal(code({ role: 'master' }, twoMasters), 503);
    assert.equal(code({ role: 'master', server: 'pg1' }, twoMasters), 503);
    assert.equal(code({ role: 'master', server: 'pg2' }, twoMasters), 503);
    assert.equal(code({ role: 'master' }, ['pg2:replica:healthy']), 503);
  });
});

describe('answerHealthCheck: replica', () => {
  const cluster = ['pg1:master:healthy', 'pg2:replica:healthy', 'pg3:replica:lagged', 'pg4:replica:warning', 'pg5:replica:healthy:disabled', 'pg6:replica:unavailable'];
  const lag = { pg2: 2, pg3: 300, pg4: 0, pg5: 0, pg6: 0 };

  it('answers 200 "replica" for a healthy or lagged replica with a lag measurement, any lag without a bound', () => {
    assert.deepEqual(answerHealthCheck({ role: 'replica', server: 'pg2' }, cluster.map(s), (name) => lag[name as keyof typeof lag]), { status: 200, word: 'replica' });
    assert.equal(code({ role: 'replica', server: 'pg3' }, cluster, lag), 200);
  });

  it('applies max_lag_mb as an inclusive bound', () => {
    assert.equal(code({ role: 'replica', server: 'pg2', maxLagMb: 2 }, cluster, lag), 200);
    assert.equal(code({ role: 'replica', server: 'pg2', maxLagMb: 1.5 }, cluster, lag), 503);
    assert.equal(code({ role: 'replica', server: 'pg3', maxLagMb: 100 }, cluster, lag), 503);
    assert.equal(code({ role: 'replica', server: 'pg2', maxLagMb: 0 }, cluster, { pg2: 0 }), 200);
  });

  it('answers 503 without a recent lag measurement: not known to stream', () => {
    assert.equal(code({ role: 'replica', server: 'pg2' }, cluster, {}), 503);
  });

  it('answers 503 for a warning, unavailable or disabled replica, the master and an unknown name', () => {
    for (const server of ['pg4', 'pg5', 'pg6', 'pg1', 'nosuch']) assert.equal(code({ role: 'replica', server }, cluster, { ...lag, pg1: 0 }), 503, server);
  });
});
