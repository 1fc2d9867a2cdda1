import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { healthEndpoints, parseHealthRequest } from './health-endpoints.js';
import type { HealthCheck } from '../status/load-balancer-health.js';

describe('parseHealthRequest', () => {
  it('reads the three endpoints', () => {
    assert.deepEqual(parseHealthRequest('/health/master'), { check: { role: 'master' } });
    assert.deepEqual(parseHealthRequest('/health/master/pg1'), { check: { role: 'master', server: 'pg1' } });
    assert.deepEqual(parseHealthRequest('/health/replica/pg%2D2'), { check: { role: 'replica', server: 'pg-2' } });
    assert.deepEqual(parseHealthRequest('/health/replica/pg2?max_lag_mb=16'), { check: { role: 'replica', server: 'pg2', maxLagMb: 16 } });
    assert.deepEqual(parseHealthRequest('/health/replica/pg2?max_lag_mb=0.5'), { check: { role: 'replica', server: 'pg2', maxLagMb: 0.5 } });
  });

  it('leaves other paths to the framework', () => {
    for (const url of ['/health', '/health/', '/health/masters', '/healthz', '/health/replica', '/get_status']) assert.equal(parseHealthRequest(url), undefined, url);
  });

  it('refuses bad bounds, stray parameters and bad names', () => {
    for (const url of [
      '/health/replica/pg2?max_lag_mb=',
      '/health/replica/pg2?max_lag_mb=-1',
      '/health/replica/pg2?max_lag_mb=abc',
      '/health/replica/pg2?max_lag_mb=1e3',
      '/health/replica/pg2?max_lag_mb=%201',
      '/health/replica/pg2?max_lag_mb=1&max_lag_mb=2',
      '/health/replica/pg2?lag=1',
      '/health/master?max_lag_mb=1',
      '/health/master/pg1?x=1',
      '/health/master/',
      '/health/replica/',
      '/health/replica/a/b',
      '/health/master/%E0%A4%A',
    ]) {
      assert.ok('invalid' in (parseHealthRequest(url) ?? { check: {} }), url);
    }
  });
});

describe('healthEndpoints over HTTP', () => {
  let server: Server;
  let base = '';
  let enabled = true;
  const asked: HealthCheck[] = [];

  before(async () => {
    const route = healthEndpoints({
      healthEndpointsEnabled: () => enabled,
      loadBalancerHealth: (check) => {
        if (check.role === 'master' && check.server === 'throws') throw new Error('registry closed');
        asked.push(check);
        return check.role === 'master' ? { status: 200, word: 'master' } : { status: 503, word: 'unavailable' };
      },
    });
    server = createServer((request, response) => {
      if (!route(request, response)) {
        response.writeHead(404);
        response.end('framework');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers one word, not cached, for GET and HEAD', async () => {
    const get = await fetch(`${base}/health/master`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'master');
    assert.equal(get.headers.get('cache-control'), 'no-store');
    assert.equal(get.headers.get('content-type'), 'text/plain; charset=utf-8');
    const head = await fetch(`${base}/health/replica/pg2?max_lag_mb=3`, { method: 'HEAD' });
    assert.equal(head.status, 503);
    assert.equal(await head.text(), '');
    assert.equal(head.headers.get('content-length'), String('unavailable'.length));
    assert.deepEqual(asked.at(-1), { role: 'replica', server: 'pg2', maxLagMb: 3 });
  });

  it('answers 503 when HandyRep cannot answer, and keeps serving', async () => {
    const failed = await fetch(`${base}/health/master/throws`);
    assert.deepEqual([failed.status, await failed.text()], [503, 'unavailable']);
    assert.equal((await fetch(`${base}/health/master`)).status, 200);
  });

  it('answers 400 "invalid" for a bad bound without asking HandyRep', async () => {
    const count = asked.length;
    const bad = await fetch(`${base}/health/replica/pg2?max_lag_mb=lots`);
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'invalid');
    assert.equal(asked.length, count);
  });

  it('leaves other methods, other paths and every path while switched off to the framework', async () => {
    assert.equal(await (await fetch(`${base}/health/master`, { method: 'POST' })).text(), 'framework');
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'framework');
    enabled = false;
    try {
      for (const path of ['/health/master', '/health/replica/pg2?max_lag_mb=lots']) {
        const response = await fetch(`${base}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal(await response.text(), 'framework');
      }
    } finally {
      enabled = true;
    }
  });
});
