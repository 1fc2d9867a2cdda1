// The daemon's web API on a real cluster (SCENARIOS.md 15): every status
// code, GET refused for actions, and a sweep of bad input that never crashes
// the daemon or changes state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { API_FUNCTIONS } from '@handyrep/core';
import { createCluster } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';

const ADMIN = 'Admin-Pass-1';
const READ = 'Read-Pass-2';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('web API', () => {
  let cluster: Cluster;
  let daemon: Daemon;
  const call = async (path: string, init: { method?: string; auth?: string | null; body?: unknown; rawBody?: string } = {}): Promise<{ status: number; json: unknown; text: string; headers: Headers }> => {
    const headers: Record<string, string> = {};
    if (init.auth !== null) headers['authorization'] = init.auth ?? basic('admin', ADMIN);
    if (init.body !== undefined || init.rawBody !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${daemon.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.rawBody !== undefined ? { body: init.rawBody } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  };

  before(async () => {
    cluster = await createCluster({ replicas: 1 });
    const file = cluster.writeConfig(undefined, {
      handyrep: { authentication_method: 'simple_password_auth' },
      failover: { auto_failover: false, poll_method: 'poll_isready' },
      server_defaults: { clone_method: null },
      passwords: { admin_password: ADMIN, read_password: READ },
    });
    daemon = await startDaemon(file, { port: 0 });
  });

  after(async () => {
    await daemon?.stop();
    await cluster?.teardown();
  });

  it('answers reads by GET and POST with the spec dictionaries', async () => {
    const status = await call('/get_status');
    assert.equal(status.status, 200);
    assert.deepEqual(Object.keys((status.json as { servers: object }).servers).sort(), ['pg1', 'pg2']);
    const polled = await call('/get_status', { method: 'POST', body: { check_type: 'poll' }, auth: basic('read', READ) });
    assert.equal(polled.status, 200);
    assert.equal((polled.json as { servers: Record<string, { status: string }> }).servers['pg1']?.status, 'healthy');
    const setting = await call('/get_setting?category=handyrep&setting=postgres_superuser');
    assert.deepEqual(setting.json, { result: 'SUCCESS', details: '', setting: 'handyrep.postgres_superuser', value: 'postgres' });
    const byPost = await call('/get_server_info', { method: 'POST', body: { servername: 'pg2' } });
    assert.equal(byPost.status, 200);
    assert.equal((byPost.json as Record<string, { role: string }>)['pg2']?.role, 'replica');
    assert.equal((await call('/get_master_name')).json, 'pg1');
    await call('/set_verbose', { method: 'POST', body: { verbose: true } });
    await call('/set_verbose', { method: 'POST', body: { verbose: false } });
    const log = await call('/read_log?numlines=2');
    assert.ok(Array.isArray(log.json) && log.json.length === 2, log.text);
    assert.match(String((log.json as string[])[0]), /verbose logging off/);
  });

  it('serves a remembered login the cached status bytes, the same dictionary as the full path', async () => {
    const full = await call('/get_status', { method: 'POST', body: {}, auth: basic('read', READ) });
    const fast = await call('/get_status', { auth: basic('read', READ) });
    assert.equal(fast.status, 200);
    assert.equal(fast.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(fast.json, full.json);
    assert.equal((await call('/get_status', { auth: basic('read', 'not-it') })).status, 401);
  });

  it('refuses missing or wrong credentials (401), read-only credentials on an action (403)', async () => {
    const none = await call('/get_status', { auth: null });
    assert.equal(none.status, 401);
    assert.match(String(none.headers.get('www-authenticate')), /Basic/);
    assert.equal((none.json as { result: string }).result, 'FAIL');
    assert.equal((await call('/get_status', { auth: basic('admin', 'wrong') })).status, 401);
    assert.equal((await call('/get_status', { auth: 'Bearer abc' })).status, 401);
    const readOnAction = await call('/pause', { method: 'POST', auth: basic('read', READ), body: {} });
    assert.equal(readOnAction.status, 403);
    assert.match((readOnAction.json as { details: string }).details, /read-only/);
    assert.equal(daemon.hr.pausedSince(), undefined, 'nothing happened');
  });

  it('lets admin credentials act by POST only; GET on an action is 405', async () => {
    const get = await call('/pause');
    assert.equal(get.status, 405);
    assert.equal(daemon.hr.pausedSince(), undefined);
    const paused = await call('/pause', { method: 'POST', body: {} });
    assert.equal(paused.status, 200);
    assert.equal((paused.json as { result: string }).result, 'SUCCESS');
    assert.equal((await call('/resume', { method: 'POST', body: {} })).status, 200);
    assert.equal(daemon.hr.pausedSince(), undefined);
  });

  it('answers 404 for an unknown function and for library-only functions', async () => {
    for (const path of ['/no_such_function', '/failover_check', '/verify_master', '/../etc/passwd']) {
      const response = await call(path, { method: 'POST', body: {} });
      assert.equal(response.status, 404, path);
      assert.equal((response.json as { result: string }).result, 'FAIL');
    }
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    const before = JSON.stringify(await daemon.hr.getServerInfo());
    const bad: [string, { method?: string; body?: unknown; rawBody?: string }][] = [
      ['/get_server_info?servername=pg1;rm%20-rf%20/', {}],
      ['/get_server_info?servername=$(touch%20/tmp/pwned)', {}],
      ['/read_log?numlines=abc', {}],
      ['/read_log?numlines=99999999', {}],
      ['/get_status?check_type=sometimes', {}],
      ['/get_status?unexpected=1', {}],
      ['/poll', { method: 'POST', body: {} }],
      ['/poll', { method: 'POST', body: { servername: 'nosuchserver' } }],
      ['/get_setting', {}],
      ['/enable', { method: 'POST', body: { servername: 'ghost' } }],
      ['/shutdown', { method: 'POST', body: {} }],
      ['/shutdown', { method: 'POST', body: { servername: 'pg2`reboot`' } }],
      ['/alter_server_def', { method: 'POST', body: { servername: 'pg2', serverprops: 'hostname=evil' } }],
      ['/alter_server_def', { method: 'POST', body: { servername: 'pg2', serverprops: { port: 'http' } } }],
      ['/alter_server_def', { method: 'POST', body: { servername: 'pg2', serverprops: { status: 'healthy' } } }],
      ['/alter_server_def', { method: 'POST', body: { servername: 'pg1', serverprops: { role: 'replica' } } }],
      ['/add_server', { method: 'POST', body: { servername: 'new;one', serverprops: { hostname: 'x' } } }],
      ['/add_server', { method: 'POST', body: { servername: 'newone', serverprops: { role: 'replica' } } }],
      ['/add_server', { method: 'POST', body: { servername: 'x'.repeat(5000), serverprops: { hostname: 'h' } } }],
      ['/remove', { method: 'POST', body: { servername: 'pg2' } }],
      ['/manual_failover', { method: 'POST', body: { newmaster: 'pg1' } }],
      ['/manual_failover', { method: 'POST', body: { newmaster: 42 } }],
      ['/clone', { method: 'POST', body: { replicaserver: 'pg1' } }],
      ['/set_verbose', { method: 'POST', rawBody: '{not json' }],
      ['/set_verbose', { method: 'POST', body: { verbose: 'perhaps' } }],
    ];
    for (const [path, init] of bad) {
      const response = await call(path, init);
      assert.ok([400, 404].includes(response.status) || (response.status === 200 && (response.json as { result?: string }).result === 'FAIL'), `${path} ${JSON.stringify(init)} → ${response.status} ${response.text}`);
      assert.equal((response.json as { result?: string }).result, 'FAIL', `${path}: ${response.text}`);
    }
    const huge = await call('/add_server', { method: 'POST', rawBody: JSON.stringify({ servername: 'big', serverprops: { hostname: 'h', note: 'x'.repeat(200_000) } }) });
    assert.equal(huge.status, 413);
    assert.equal(JSON.stringify(await daemon.hr.getServerInfo()), before, 'no definition changed');
    assert.equal((await call('/get_status')).status, 200, 'the daemon is still answering');
  });

  it('never returns a password', async () => {
    for (const path of ['/get_setting?category=passwords&setting=admin_password', '/get_setting?category=PASSWORDS&setting=read_password', '/get_setting?category=handyrep&setting=admin_password']) {
      const response = await call(path);
      assert.equal((response.json as { result: string }).result, 'FAIL', path);
      assert.ok(!response.text.includes(ADMIN) && !response.text.includes(READ), path);
    }
    const everything = await call('/get_server_info');
    assert.ok(!everything.text.includes(ADMIN) && !everything.text.includes(cluster.superuserPassword));
  });

  it('guards every endpoint: 401 without credentials, 405 for GET on actions, 403 for read-only actions, 400 for missing arguments', async () => {
    for (const fn of API_FUNCTIONS.filter((entry) => entry.web)) {
      assert.equal((await call(`/${fn.spec}`, { auth: null })).status, 401, `${fn.spec} without credentials`);
      if (fn.access === 'admin') {
        assert.equal((await call(`/${fn.spec}`)).status, 405, `GET ${fn.spec}`);
        assert.equal((await call(`/${fn.spec}`, { method: 'POST', auth: basic('read', READ), body: {} })).status, 403, `${fn.spec} with read credentials`);
      }
      if (fn.params.some((param) => param.required)) {
        const missing = await call(`/${fn.spec}`, { method: 'POST', body: {} });
        assert.equal(missing.status, 400, `${fn.spec} without its required arguments: ${missing.text}`);
      }
      const unknownArgument = await call(`/${fn.spec}`, { method: 'POST', auth: basic('read', READ), body: { no_such_parameter: 1 } });
      assert.equal(unknownArgument.status, fn.access === 'admin' ? 403 : 400, `${fn.spec} with an unknown argument`);
    }
    assert.equal(daemon.hr.pausedSince(), undefined, 'nothing was executed');
    assert.equal(daemon.hr.getMasterName(), 'pg1');
  });

  it('serves OpenAPI for every web function, metrics and healthz', async () => {
    const openapi = await call('/openapi.json');
    assert.equal(openapi.status, 200);
    const paths = Object.keys((openapi.json as { paths: object }).paths);
    for (const fn of API_FUNCTIONS.filter((entry) => entry.web)) assert.ok(paths.includes(`/${fn.spec}`), fn.spec);
    const metrics = await call('/metrics', { auth: basic('read', READ) });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /handyrep_cluster_status \d/);
    assert.match(metrics.text, /handyrep_server_status\{server="pg1",role="master",enabled="true"\} \d/);
    assert.equal((await call('/metrics', { auth: null })).status, 401);
    const health = await call('/healthz', { auth: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok', monitor: 'running' });
  });
});
