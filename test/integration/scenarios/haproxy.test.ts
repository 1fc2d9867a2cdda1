// Issue 18, "Must show → HAProxy": a real HAProxy (Debian's package), started
// by the test on a loopback address of its slot with the configuration of
// docs/haproxy.md, routes writes to the server HandyRep's /health/master/<name>
// names. A writer writes through HAProxy; the master host is lost (sshd down,
// postgres killed, as in master-host-lost.test.ts); HandyRep fails over and
// writes through HAProxy succeed again. Prints fault → first write through
// HAProxy next to the failover time and HAProxy's check interval. The old
// master never answers 200 once the new one does.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { createCluster, runQuery } from '../../harness/index.js';
import type { Cluster, ConnTarget, Writer } from '../../harness/index.js';
import { FAST_FAILOVER, report, waitFor } from './scenario-support.js';

const HAPROXY_DOC = fileURLToPath(new URL('../../../../docs/haproxy.md', import.meta.url));
/** The addresses docs/haproxy.md's example uses, replaced by the cluster's. */
const DOC_HANDYREP = 'check addr 10.0.0.5 port 8754';
const DOC_FRONTEND = '10.0.0.100';
const DOC_SERVERS: Record<string, string> = { pg1: '10.0.0.11', pg2: '10.0.0.12', pg3: '10.0.0.13' };

/** The ```haproxy block of docs/haproxy.md with this cluster's addresses, HandyRep's web API and HAProxy's own address. */
function haproxyConfig(cluster: Cluster, web: URL, frontend: string): { text: string; checkIntervalMs: number; downIntervalMs: number } {
  const doc = readFileSync(HAPROXY_DOC, 'utf8');
  const block = /```haproxy\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/haproxy.md has a ```haproxy block');
  assert.ok(block.includes(DOC_HANDYREP), `the block checks HandyRep with '${DOC_HANDYREP}'`);
  let text = block.replaceAll(DOC_HANDYREP, `check addr ${web.hostname} port ${web.port}`).replaceAll(DOC_FRONTEND, frontend);
  for (const [name, address] of Object.entries(DOC_SERVERS)) text = text.replaceAll(`server ${name} ${address}:5432`, `server ${name} ${cluster.host(name).address}:${cluster.host(name).pgPort}`);
  assert.doesNotMatch(text, /10\.0\.0\./, 'every example address was replaced');
  return { text, checkIntervalMs: interval(text, 'inter'), downIntervalMs: interval(text, 'downinter') };
}

/** A check interval of the configuration (`inter 1s`, `downinter 500ms`) in ms. */
function interval(text: string, keyword: string): number {
  const match = new RegExp(`\\b${keyword} (\\d+)(ms|s)\\b`).exec(text);
  assert.ok(match, `the block sets ${keyword}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** HAProxy in the foreground (-db), a child of the test; its log lines are kept with their time. */
function startHaproxy(configFile: string): { child: ChildProcess; log: { t: number; line: string }[] } {
  const child = spawn('/usr/sbin/haproxy', ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: { t: number; line: string }[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') log.push({ t: Date.now(), line });
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log };
}

async function stopHaproxy(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function healthCode(web: URL, path: string): Promise<number> {
  const response = await fetch(new URL(path, web), { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  await response?.body?.cancel();
  return response?.status ?? 0;
}

describe('HAProxy routes writes with /health/master/<name>', () => {
  let cluster: Cluster;
  let daemon: Daemon | undefined;
  let haproxy: ReturnType<typeof startHaproxy> | undefined;
  let writer: Writer | undefined;

  before(async () => {
    cluster = await createCluster({ replicas: 2, pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' } });
  });

  after(async () => {
    await writer?.stop().catch(() => undefined);
    if (haproxy) await stopHaproxy(haproxy.child);
    await daemon?.stop();
    await cluster?.teardown();
  });

  it('sends writes to the master, and to the new master after a master host loss', async () => {
    const configFile = cluster.writeConfig(undefined, {
      ...FAST_FAILOVER,
      handyrep: { ...FAST_FAILOVER['handyrep'], health_endpoints: true, authentication_method: 'simple_password_auth' },
      passwords: { admin_password: 'Admin-Pass-1', read_password: 'Read-Pass-2' },
    });
    daemon = await startDaemon(configFile, { port: 0 });
    const web = new URL(daemon.url);
    const frontend = cluster.slot.address(60);
    const { text, checkIntervalMs, downIntervalMs } = haproxyConfig(cluster, web, frontend);
    const haproxyFile = join(cluster.baseDir, 'haproxy.cfg');
    writeFileSync(haproxyFile, text);
    haproxy = startHaproxy(haproxyFile);
    const through = (port: number): ConnTarget => ({ ...cluster.target('pg1'), host: frontend, port });

    assert.ok(await waitFor(async () => (await healthCode(web, '/health/master/pg1')) === 200, 15_000), 'HandyRep answers 200 for pg1');
    writer = await cluster.startWriter({ target: through(5432), intervalMs: 20 });
    await writer.waitForAcks(20);
    const served = await runQuery<{ address: string }>(through(5432), 'SELECT host(inet_server_addr()) AS address', [], { timeoutMs: 3000 });
    assert.equal(served[0]?.address, cluster.host('pg1').address, 'writes go to pg1');
    assert.ok(
      await waitFor(async () => {
        const rows = await runQuery<{ recovery: boolean }>(through(5433), 'SELECT pg_is_in_recovery() AS recovery', [], { timeoutMs: 2000 }).catch(() => []);
        return rows[0]?.recovery === true;
      }, 15_000, 200),
      'reads through the read-only listener reach a replica (once HandyRep has verified one)',
    );

    // Sample both endpoints every 50 ms from the fault on: the old master never answers 200 once a new one does.
    const samples: { t: number; old: number; others: Record<string, number> }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [old, pg2, pg3] = await Promise.all(['pg1', 'pg2', 'pg3'].map((name) => healthCode(web, `/health/master/${name}`)));
        samples.push({ t: Date.now(), old: old ?? 0, others: { pg2: pg2 ?? 0, pg3: pg3 ?? 0 } });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    await cluster.faults.sshDown('pg1');
    const faultAt = Date.now();
    await cluster.faults.kill('pg1');
    // Writes acknowledged before the kill returned may still be pg1's.
    const killedAt = Date.now();

    let newMaster = '';
    assert.ok(
      await waitFor(() => {
        const named = daemon?.hr.getMasterName() ?? null;
        newMaster = named !== null && named !== 'pg1' ? named : '';
        return newMaster !== '';
      }, 30_000, 20),
      'HandyRep failed over',
    );
    const failoverMs = Date.now() - faultAt;
    const acksBefore = writer.acked.length;
    assert.ok(await waitFor(() => writer?.acked.some((ack) => ack.t > killedAt) === true && (writer?.acked.length ?? 0) > acksBefore + 10, 20_000), 'writes through HAProxy succeed again');
    sampling = false;
    await sampler;
    const firstWrite = writer.acked.find((ack) => ack.t > killedAt);
    const servedAfter = await runQuery<{ address: string }>(through(5432), 'SELECT host(inet_server_addr()) AS address', [], { timeoutMs: 3000 });
    assert.equal(servedAfter[0]?.address, cluster.host(newMaster).address, `writes go to ${newMaster}`);

    const newMasterUp = samples.find((sample) => sample.others[newMaster] === 200);
    assert.ok(newMasterUp, `/health/master/${newMaster} answered 200`);
    const oldAfter = samples.filter((sample) => sample.t >= newMasterUp.t && sample.old === 200);
    assert.deepEqual(oldAfter, [], 'the old master never answers 200 once the new one does');
    assert.equal(await healthCode(web, '/health/master/pg1'), 503);
    const oldDown = samples.find((sample) => sample.old !== 200);

    for (const entry of haproxy.log.filter((e) => e.t >= faultAt && /is (UP|DOWN)/.test(e.line))) {
      console.log(`# haproxy +${entry.t - faultAt} ms: ${entry.line.replace(/^.*?(Server)/, '$1').slice(0, 140)}`);
    }
    for (const error of writer.errors.filter((e) => e.t >= faultAt).slice(0, 10)) console.log(`# writer error +${error.t - faultAt} ms (${error.phase}): ${error.message.slice(0, 100)}`);
    report('haproxy (host lost)', {
      fault_to_first_write_through_haproxy_ms: firstWrite ? firstWrite.t - faultAt : 'n/a',
      kill_returned_ms: killedAt - faultAt,
      failover_ms: failoverMs,
      haproxy_check_interval_ms: checkIntervalMs,
      haproxy_down_check_interval_ms: downIntervalMs,
      fault_to_old_master_503_ms: oldDown ? oldDown.t - faultAt : 'n/a',
      fault_to_new_master_200_ms: newMasterUp.t - faultAt,
      writer_errors: writer.errors.length,
    });
  });
});
