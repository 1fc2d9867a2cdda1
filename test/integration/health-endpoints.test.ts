// The load balancers' health endpoints on a real cluster and a real daemon:
// 404 while switched off, then (after reload_conf) master 200/503, a replica
// within and over a lag bound, 400 for a bad bound, no credentials and no
// Host header needed, and 503 for the master soon after it goes silent or is killed.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { createCluster } from '../harness/index.js';
import type { Cluster, ConfOverrides } from '../harness/index.js';
import { report, waitFor } from './scenarios/scenario-support.js';

const ADMIN = 'Admin-Pass-1';

/** One request without credentials; `host` undefined sends no Host header at all. */
function probe(base: string, path: string, options: { method?: 'GET' | 'HEAD'; host?: string } = {}): Promise<{ status: number; body: string; cacheControl: string | undefined }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', setHost: false, headers: options.host === undefined ? {} : { host: options.host }, timeout: 5000 },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, cacheControl: response.headers['cache-control'] }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('health endpoints for load balancers', () => {
  let cluster: Cluster;
  let daemon: Daemon;
  let configFile = '';
  const overrides = (enabled: boolean): ConfOverrides => ({
    handyrep: { authentication_method: 'simple_password_auth', health_endpoints: enabled, connect_timeout: 1 },
    failover: { auto_failover: false, poll_method: 'poll_isready', poll_interval: 0.5, verify_frequency: 1 },
    'plugins.poll_isready': { timeout_ms: 1000 },
    server_defaults: { clone_method: null },
    passwords: { admin_password: ADMIN, read_password: 'Read-Pass-2' },
  });
  const code = async (path: string): Promise<number> => (await probe(daemon.url, path, { host: '127.0.0.1' })).status;

  before(async () => {
    cluster = await createCluster({ replicas: 2 });
    configFile = cluster.writeConfig(undefined, overrides(false));
    daemon = await startDaemon(configFile, { port: 0 });
  });

  after(async () => {
    await daemon?.stop();
    await cluster?.teardown();
  });

  it('answers 404 while health_endpoints is off', async () => {
    for (const path of ['/health/master', '/health/master/pg1', '/health/replica/pg2', '/health/replica/pg2?max_lag_mb=x']) {
      assert.equal(await code(path), 404, path);
    }
  });

  it('switched on by reload_conf: the master answers 200, everything else 503, without credentials or Host', async () => {
    cluster.writeConfig(configFile, overrides(true));
    const reloaded = await daemon.hr.reloadConf();
    assert.equal(reloaded.result, 'SUCCESS', reloaded.details);
    assert.ok(await waitFor(async () => (await code('/health/master')) === 200, 15_000), 'the master answers 200 once checked');

    const master = await probe(daemon.url, '/health/master/pg1', { host: '127.0.0.1' });
    assert.deepEqual(master, { status: 200, body: 'master', cacheControl: 'no-store' });
    assert.deepEqual(await probe(daemon.url, '/health/master/pg1', { method: 'HEAD', host: '127.0.0.1' }), { status: 200, body: '', cacheControl: 'no-store' });
    assert.deepEqual(await probe(daemon.url, '/health/master/pg2', { host: '127.0.0.1' }), { status: 503, body: 'unavailable', cacheControl: 'no-store' });
    assert.equal(await code('/health/master/nosuch'), 503);
    assert.equal(await code('/health/replica/pg1'), 503, 'the master is no replica');
    assert.equal(await code('/health/replica/nosuch'), 503);

    // A load balancer sends no Host, or an address the API is not configured for; the API proper refuses both.
    assert.equal((await probe(daemon.url, '/health/master/pg1')).status, 200, 'no Host header');
    assert.equal((await probe(daemon.url, '/health/master/pg1', { host: '10.9.8.7:8754' })).status, 200, 'a foreign Host');
    assert.equal((await probe(daemon.url, '/get_status', { host: '10.9.8.7:8754' })).status, 403, 'the API refuses a foreign Host');
    assert.equal((await probe(daemon.url, '/get_status')).status, 403, 'and a request without Host');
    assert.equal(await code('/get_status'), 401, 'the API needs credentials');
  });

  it('answers 200 for a streaming replica within the bound and 503 over it; 400 for a bad bound', async () => {
    // Each replica answers 200 once a verification has measured its lag.
    for (const replica of ['pg2', 'pg3']) {
      const ready = await waitFor(async () => (await code(`/health/replica/${replica}?max_lag_mb=16`)) === 200, 15_000);
      assert.ok(ready, `${replica} within 16 MB once verified: ${JSON.stringify((await daemon.hr.getServerInfo(replica)) as unknown)}`);
    }
    assert.deepEqual(await probe(daemon.url, '/health/replica/pg3', { host: '127.0.0.1' }), { status: 200, body: 'replica', cacheControl: 'no-store' });

    const lagBytes = await cluster.faults.makeLag('pg3', 8);
    try {
      report('health endpoints lag', { pg3_replay_lag_mb: (lagBytes / 1048576).toFixed(1) });
      assert.ok(await waitFor(async () => (await code('/health/replica/pg3?max_lag_mb=2')) === 503, 15_000), 'pg3 over 2 MB answers 503 once verified');
      assert.equal(await code('/health/replica/pg3?max_lag_mb=1000'), 200, 'within a larger bound');
      assert.equal(await code('/health/replica/pg3'), 200, 'no bound: any lag');
      assert.equal(await code('/health/replica/pg2?max_lag_mb=2'), 200, 'the other replica is unaffected');
    } finally {
      await cluster.faults.resumeReplay('pg3');
    }
    for (const bound of ['', 'abc', '-1', '1e3', '2&max_lag_mb=3']) {
      const bad = await probe(daemon.url, `/health/replica/pg2?max_lag_mb=${bound}`, { host: '127.0.0.1' });
      assert.deepEqual([bad.status, bad.body], [400, 'invalid'], bound);
    }
    assert.equal(await code('/health/master?max_lag_mb=1'), 400);
  });

  it('answers 503 for a master that goes silent (partitioned) until it answers again', async () => {
    assert.equal(await code('/health/master/pg1'), 200);
    const cutAt = Date.now();
    await cluster.faults.partition('pg1');
    try {
      assert.ok(await waitFor(async () => (await code('/health/master/pg1')) === 503, 15_000, 20), 'the silent master answers 503');
      report('health endpoints master partitioned', { partition_to_503_ms: Date.now() - cutAt, poll_interval_ms: 500, poll_timeout_ms: 1000 });
    } finally {
      await cluster.faults.heal('pg1');
    }
    assert.ok(await waitFor(async () => (await code('/health/master/pg1')) === 200, 30_000, 50), 'the master answers 200 again once it answers polls');
  });

  it('answers 503 for the master soon after it is killed', async () => {
    assert.equal(await code('/health/master/pg1'), 200);
    const killedAt = Date.now();
    await cluster.faults.kill('pg1');
    assert.ok(await waitFor(async () => (await code('/health/master/pg1')) === 503, 10_000, 20), 'the killed master answers 503');
    report('health endpoints master killed', { kill_to_503_ms: Date.now() - killedAt, poll_interval_ms: 500 });
    assert.equal(await code('/health/master'), 503);
  });
});
