// Issue 12, item 2: two processes, one state file. A `handyrep daemon`
// process and a library-mode `handyrep --config ... manual_failover` started
// at the same moment on the same configuration give exactly one failover:
// the library call is refused, naming the daemon and its web API, and writes
// nothing; servers.save agrees with the cluster afterwards. A daemon killed
// with SIGKILL leaves the state file to the next process at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCluster } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';
import { HANDYREP_BIN, runHandyrep as handyrep } from './cli-process.js';
import type { CliRun } from './cli-process.js';

const ADMIN = 'Lock-Admin-Pass-1';
const READ = 'Lock-Read-Pass-2';

const show = (run: CliRun): string => `exit ${String(run.code)}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

interface DaemonChild {
  child: ChildProcess;
  pid: number;
  url: string;
  exited: Promise<number | null>;
  stderr(): string;
}

/** `handyrep --config <file> daemon --port 0`; resolves with its URL once it listens. */
async function startDaemon(configFile: string, timeoutMs = 60_000): Promise<DaemonChild> {
  const child = spawn(process.execPath, [HANDYREP_BIN, '--config', configFile, 'daemon', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon did not start within ${timeoutMs} ms: ${err.slice(-2000)}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /web API and dashboard at (\S+)/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited (${String(code)}) before listening: ${err.slice(-2000)}`));
    });
  });
  return { child, pid: child.pid ?? 0, url, exited, stderr: () => err };
}

async function stopDaemon(daemon: DaemonChild | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!daemon) return null;
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill(signal);
  const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 30_000);
  const code = await daemon.exited;
  clearTimeout(timer);
  return code;
}

interface SavedServer {
  definition: { role?: string; enabled?: boolean };
}

/** The enabled masters of the saved state. */
function savedMasters(serverFile: string): string[] {
  const state = JSON.parse(readFileSync(serverFile, 'utf8')) as { servers: Record<string, SavedServer> };
  return Object.entries(state.servers)
    .filter(([, s]) => s.definition.role === 'master' && s.definition.enabled !== false)
    .map(([name]) => name);
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('two processes, one state file (daemon and library-mode CLI)', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let configFile = '';
  let serverFile = '';
  let daemon: DaemonChild | undefined;

  before(async () => {
    cluster = await createCluster({ replicas: 2 });
    configFile = cluster.writeConfig(undefined, {
      failover: { auto_failover: false },
      server_defaults: { clone_method: null },
      handyrep: { authentication_method: 'simple_password_auth' },
      passwords: { admin_password: ADMIN, read_password: READ },
    });
    serverFile = join(cluster.baseDir, 'servers.save');
  });

  after(async () => {
    await stopDaemon(daemon, 'SIGKILL');
    await cluster?.teardown();
  });

  it('a daemon failover and a library-mode manual_failover at the same moment: exactly one failover, the CLI refused naming the daemon', async () => {
    await cluster.waitCaughtUp();
    daemon = await startDaemon(configFile);
    const { url, pid } = daemon;
    await waitFor('the daemon to save its state', () => savedMasters(serverFile).length === 1, 30_000);
    const lockRecord = JSON.parse(readFileSync(`${serverFile}.lock`, 'utf8')) as Record<string, unknown>;
    assert.deepEqual([lockRecord['pid'], lockRecord['role'], lockRecord['url']], [pid, 'daemon', url], 'the lock file names the daemon');

    const auth = `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`;
    const [library, web] = await Promise.all([
      handyrep(['--config', configFile, 'manual_failover', 'pg2']),
      fetch(`${url}/manual_failover`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ newmaster: 'pg3' }),
        signal: AbortSignal.timeout(300_000),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { result: string; details: string; failover?: { new_master?: string } } })),
    ]);

    assert.equal(library.code, 1, show(library));
    assert.equal(library.stdout, '', 'the refused call printed no result');
    assert.ok(
      library.stderr.startsWith(
        `handyrep: another HandyRep process (daemon pid ${pid}, web API at ${url}) manages ${serverFile}; send actions to it: handyrep --url ${url} <function> (lock ${serverFile}.lock held since `,
      ),
      show(library),
    );
    assert.equal(web.status, 200, JSON.stringify(web.body));
    assert.equal(web.body.result, 'SUCCESS', web.body.details);

    const masters = await cluster.findMasters(5000);
    assert.deepEqual(masters, ['pg3'], `exactly one server out of recovery: ${masters.join(', ')}`);
    assert.equal(await cluster.inRecovery('pg2'), true, 'the refused library call promoted nothing');
    await waitFor('servers.save to name the new master', () => savedMasters(serverFile).join() === 'pg3', 30_000);

    assert.equal(await stopDaemon(daemon), 0, daemon.stderr().slice(-2000));
    daemon = undefined;
    assert.deepEqual(savedMasters(serverFile), await cluster.findMasters(5000), 'after the daemon stopped, servers.save names the one master of the cluster');

    // The lock went with the daemon: library mode works again and agrees.
    const name = await handyrep(['--config', configFile, 'get_master_name']);
    assert.equal(name.code, 0, show(name));
    assert.equal(name.stdout, 'pg3\n');
  });

  it('a daemon killed with SIGKILL leaves the state file to the next process at once', async () => {
    daemon = await startDaemon(configFile);
    const refused = await handyrep(['--config', configFile, 'get_master_name']);
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.stderr, new RegExp(`^handyrep: another HandyRep process \\(daemon pid ${daemon.pid}, `));
    await stopDaemon(daemon, 'SIGKILL');
    daemon = undefined;
    const started = Date.now();
    const next = await handyrep(['--config', configFile, 'get_master_name']);
    assert.equal(next.code, 0, show(next));
    assert.equal(next.stdout, 'pg3\n');
    console.log(`# library call right after the daemon's SIGKILL: ${Date.now() - started} ms (no stale lock to wait for)`);
    assert.deepEqual(savedMasters(serverFile), await cluster.findMasters(5000));
  });
});
