// Issue 18, rolling restart through a running daemon: the CLI's
// `restart_cluster --pending_only --switchover` against --url, and POST
// /restart_cluster over HTTP, with admin credentials (SUCCESS, the pending
// setting applied) and with read-only credentials (403, nothing restarted).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { createCluster } from '../../harness/index.js';
import type { Cluster } from '../../harness/index.js';
import { runHandyrep as handyrep } from '../cli-process.js';
import { report, waitFor } from './scenario-support.js';

const ADMIN = 'Rolling-Admin-Pass-1';
const READ = 'Rolling-Read-Pass-2';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

interface RestartAnswer {
  result: string;
  details: string;
  restarted: string[];
  skipped: { server: string }[];
  stopped_at: unknown;
  master: string | null;
}

describe('restart_cluster through a running daemon: the CLI and the web API', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let daemon: Daemon;

  const pid = (host: string): number => Number(readFileSync(join(cluster.host(host).pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = (): Record<string, number> => Object.fromEntries(cluster.postgresHosts.map((host) => [host.name, pid(host.name)]));
  const masterName = async (): Promise<string> => {
    const response = await fetch(`${daemon.url}/get_master_name`, { headers: { authorization: basic('read', READ) } });
    return String(await response.json());
  };
  const pendingEverywhere = async (value: number): Promise<void> => {
    for (const host of cluster.postgresHosts) {
      await cluster.query(host.name, `ALTER SYSTEM SET max_connections = ${value}`, [], { timeoutMs: 3000 });
      await cluster.query(host.name, 'SELECT pg_reload_conf()', [], { timeoutMs: 3000 });
    }
  };
  const maxConnections = async (host: string): Promise<string> => String((await cluster.query(host, 'SHOW max_connections', [], { timeoutMs: 3000 }))[0]?.['max_connections']);
  const waitStreaming = async (): Promise<void> => {
    const master = await masterName();
    const ok = await waitFor(async () => {
      const rows = await cluster.query(master, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'", [], { timeoutMs: 2000 }).catch(() => []);
      return rows.length === cluster.postgresHosts.length - 1;
    }, 30_000, 200);
    assert.ok(ok, `every replica streams from ${master}`);
  };

  before(async () => {
    cluster = await createCluster({ replicas: 1 });
    const file = cluster.writeConfig(undefined, {
      handyrep: { authentication_method: 'simple_password_auth' },
      failover: { auto_failover: false, poll_method: 'poll_isready', restart_catchup_timeout: 30 },
      server_defaults: { clone_method: 'clone_basebackup' },
      passwords: { admin_password: ADMIN, read_password: READ },
    });
    daemon = await startDaemon(file, { port: 0 });
  });

  after(async () => {
    await daemon?.stop();
    await cluster?.teardown();
  });

  it('CLI: handyrep --url ... restart_cluster --pending_only --switchover applies the pending setting with one switchover', async () => {
    const passwordFile = join(cluster.baseDir, 'rolling-admin.password');
    writeFileSync(passwordFile, `${ADMIN}\n`, { mode: 0o600 });
    const masterBefore = await masterName();
    await pendingEverywhere(120);
    const started = Date.now();
    const run = await handyrep(['--url', daemon.url, '--user', 'admin', '--password-file', passwordFile, '--json', 'restart_cluster', '--pending_only', '--switchover']);
    report('CLI restart_cluster', { exit: String(run.code), ms: Date.now() - started });
    assert.equal(run.code, 0, `exit ${String(run.code)}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    const answer = JSON.parse(run.stdout) as RestartAnswer;
    assert.equal(answer.result, 'SUCCESS', answer.details);
    assert.equal(answer.restarted.length, 2);
    assert.notEqual(answer.master, masterBefore, 'the master phase was a switchover');
    assert.equal(await masterName(), answer.master);
    for (const host of cluster.postgresHosts) assert.equal(await maxConnections(host.name), '120', `${host.name} runs with the new setting`);
    await waitStreaming();
  });

  it('web API: read-only credentials get 403 and restart nothing; admin credentials restart every server', async () => {
    await pendingEverywhere(130);
    const before = pids();
    const post = (auth: string): Promise<Response> =>
      fetch(`${daemon.url}/restart_cluster`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ pending_only: true, switchover: false }) });

    const refused = await post(basic('read', READ));
    const refusedBody = await refused.text();
    report('POST /restart_cluster with read-only credentials', { status: refused.status, body: refusedBody });
    assert.equal(refused.status, 403);
    assert.deepEqual(pids(), before, 'no postmaster was restarted');
    for (const host of cluster.postgresHosts) assert.equal(await maxConnections(host.name), '120', `${host.name} still runs with the old setting`);

    const started = Date.now();
    const accepted = await post(basic('admin', ADMIN));
    const answer = (await accepted.json()) as RestartAnswer;
    report('POST /restart_cluster with admin credentials', { status: accepted.status, ms: Date.now() - started, details: answer.details });
    assert.equal(accepted.status, 200);
    assert.equal(answer.result, 'SUCCESS', answer.details);
    assert.equal(answer.restarted.length, 2);
    const after = pids();
    for (const host of cluster.postgresHosts) {
      assert.notEqual(after[host.name], before[host.name], `${host.name} was restarted`);
      assert.equal(await maxConnections(host.name), '130', `${host.name} runs with the new setting`);
    }
    await waitStreaming();
  });
});
