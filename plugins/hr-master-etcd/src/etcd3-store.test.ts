// The etcd3 store and the plugin against a real etcd (Debian's etcd-server),
// started here on a loopback address; skipped when there is no etcd binary.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { HrMasterEtcdConfig } from './config.js';
import { Etcd3Store } from './etcd3-store.js';
import { createHrMasterEtcd } from './plugin.js';
import type { WatchEvent } from './store.js';

const etcdBinary = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
const noEtcd = etcdBinary.status === 0 ? false : 'no etcd binary (apt-get install etcd-server)';
// 127.79.x.1: outside the harness's 127.77.x slots; x varies so parallel runs do not collide.
const address = `127.79.${1 + (process.pid % 250)}.1`;
const url = `http://${address}:2379`;

async function waitHealthy(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      if (((await res.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`etcd on ${url} did not become healthy`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds (at most 5 s); the assertion after it says what did not happen. */
async function settle(done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await done()) && Date.now() < deadline) await sleep(20);
}

function config(overrides: Partial<HrMasterEtcdConfig>): HrMasterEtcdConfig {
  return {
    endpoints: url,
    cluster_name: `t${process.pid}`,
    prefix: '',
    instance_name: '',
    lease_ttl_seconds: 2,
    safety_margin_ms: 0,
    request_timeout_ms: 0,
    username: '',
    password_key: 'etcd_password',
    ca_file: '',
    cert_file: '',
    key_file: '',
    ...overrides,
  };
}

describe('hr_master_etcd on a real etcd', { skip: noEtcd }, () => {
  let etcd: ChildProcess | undefined;
  let dir = '';
  let store: Etcd3Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hr-master-etcd-'));
    etcd = spawn(
      'etcd',
      [
        '--name', 'unit', '--data-dir', join(dir, 'data'),
        '--listen-client-urls', url, '--advertise-client-urls', url,
        '--listen-peer-urls', `http://${address}:2380`, '--initial-advertise-peer-urls', `http://${address}:2380`,
        '--initial-cluster', `unit=http://${address}:2380`, '--log-level', 'warn',
      ],
      { stdio: 'ignore' },
    );
    await waitHealthy();
    store = new Etcd3Store({ endpoints: [url] });
  });

  after(async () => {
    await store?.close();
    if (etcd?.pid !== undefined && etcd.exitCode === null) {
      const exited = new Promise((resolve) => etcd?.once('exit', resolve));
      process.kill(etcd.pid, 'SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('leases, create-if-absent, the guarded put and the watch have etcd semantics', async () => {
    const events: WatchEvent[] = [];
    const watch = store.watch('/u/leader', (event) => events.push(event), () => undefined);
    await sleep(200);
    const a = await store.grantLease(5, 2000);
    const b = await store.grantLease(5, 2000);
    assert.equal(a.ttlSeconds, 5);
    assert.ok(Number(await store.keepAlive(a.id, 2000)) > 0);

    assert.deepEqual(await store.createIfAbsent('/u/leader', 'hr-a', a.id, 2000), { created: true });
    const again = await store.createIfAbsent('/u/leader', 'hr-b', b.id, 2000);
    assert.equal(again.created, false);
    assert.ok(!again.created && again.current?.value === 'hr-a' && again.current.lease === a.id);

    assert.equal(await store.putIfHeld({ key: '/u/leader', value: 'hr-a', lease: a.id }, '/u/state', '{"generation":1,"state":{}}', 2000), true);
    assert.equal(await store.putIfHeld({ key: '/u/leader', value: 'hr-a', lease: b.id }, '/u/state', 'x', 2000), false, 'right name, other lease');
    assert.equal(await store.putIfHeld({ key: '/u/leader', value: 'hr-b', lease: a.id }, '/u/state', 'x', 2000), false, 'other name');
    assert.equal((await store.get('/u/state', 2000))?.value, '{"generation":1,"state":{}}');

    await store.revokeLease(a.id, 2000);
    assert.equal(await store.get('/u/leader', 2000), undefined, 'the key went with its lease');
    assert.ok(Number(await store.keepAlive(a.id, 2000)) <= 0, 'a revoked lease renews to TTL 0');
    await sleep(200);
    assert.deepEqual(events.map((event) => event.type), ['put', 'delete']);
    assert.equal(events[0]?.type === 'put' ? events[0].kv.value : '', 'hr-a');
    await watch.close();
    await store.revokeLease(b.id, 2000);
  });

  it('an unreachable etcd fails each call within its deadline', async () => {
    const nowhere = new Etcd3Store({ endpoints: ['http://127.79.255.254:2379'] });
    const started = Date.now();
    await assert.rejects(nowhere.grantLease(5, 500));
    await assert.rejects(nowhere.get('/u/x', 500));
    assert.ok(Date.now() - started < 3000);
    await nowhere.close();
  });

  it('two plugin instances: one acts, the other names it; close() hands over at once; shared state is written only by the acting one', async () => {
    // A 10 s lease: a hand-over within 2 s can only come from the resignation, not from expiry.
    const a = createHrMasterEtcd(createTestContext<HrMasterEtcdConfig>({ config: config({ instance_name: 'hr-a', lease_ttl_seconds: 10 }) }).context);
    await settle(async () => (await a.check()).acting);
    const b = createHrMasterEtcd(createTestContext<HrMasterEtcdConfig>({ config: config({ instance_name: 'hr-b', lease_ttl_seconds: 10 }) }).context);
    await settle(async () => (await b.check()).acting_instance !== null);
    assert.deepEqual([(await a.check()).acting, (await a.check()).acting_instance], [true, 'hr-a']);
    assert.deepEqual([(await b.check()).acting, (await b.check()).acting_instance], [false, 'hr-a']);
    assert.equal(await a.sharedState?.write({ generation: 4, state: { by: 'hr-a' } }), true);
    assert.equal(await b.sharedState?.write({ generation: 5, state: { by: 'hr-b' } }), false);
    assert.deepEqual(await b.sharedState?.read(), { generation: 4, state: { by: 'hr-a' } });

    const handover = Date.now();
    await a.close?.();
    while (!(await b.check()).acting && Date.now() - handover < 3000) await sleep(10);
    const took = Date.now() - handover;
    assert.equal((await b.check()).acting, true);
    assert.ok(took < 2000, `hand-over after close took ${took} ms`);
    assert.equal((await a.check()).acting, false);
    await b.close?.();
  });

  it('the acting instance keeps its role across renewals (several TTLs)', async () => {
    const a = createHrMasterEtcd(createTestContext<HrMasterEtcdConfig>({ config: config({ instance_name: 'hr-long' }) }).context);
    await settle(async () => (await a.check()).acting);
    for (let i = 0; i < 8; i += 1) {
      assert.equal((await a.check()).acting, true, `after ${i * 400} ms`);
      await sleep(400);
    }
    await a.close?.();
  });
});

describe('hr_master_etcd through the core loader', () => {
  it('loads by name with its schema defaults', async () => {
    const report = await verifyPlugin('hr_master_etcd', { kind: 'hr_master', config: { endpoints: 'http://127.79.255.254:2379', instance_name: 'hr-v' } });
    assert.equal(report.name, 'hr_master_etcd');
    assert.equal(report.kind, 'hr_master');
    assert.deepEqual(report.config, {
      endpoints: 'http://127.79.255.254:2379',
      cluster_name: 'handyrep',
      prefix: '',
      instance_name: 'hr-v',
      lease_ttl_seconds: 10,
      safety_margin_ms: 0,
      request_timeout_ms: 0,
      username: '',
      password_key: 'etcd_password',
      ca_file: '',
      cert_file: '',
      key_file: '',
    });
  });

  it('refuses unknown keys, a TTL below 2 s and a bad endpoint', async () => {
    await assert.rejects(verifyPlugin('hr_master_etcd', { kind: 'hr_master', config: { ttl: 5 } }), /ttl|additional/);
    await assert.rejects(verifyPlugin('hr_master_etcd', { kind: 'hr_master', config: { lease_ttl_seconds: 1 } }), /lease_ttl_seconds|minimum|>= 2/);
    await assert.rejects(verifyPlugin('hr_master_etcd', { kind: 'hr_master', config: { endpoints: 'etcd:2379' } }), /not http\(s\):\/\/host:port/);
  });

  it('needs the etcd password from [passwords] when a user is set', () => {
    const { context } = createTestContext<HrMasterEtcdConfig>({ config: config({ endpoints: 'http://127.79.255.254:2379', username: 'handyrep' }) });
    assert.throws(() => createHrMasterEtcd(context), /etcd_password/);
  });
});
