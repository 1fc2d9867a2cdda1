// The `handyrep` command line on a real cluster, as a child process, in both
// modes: library (--config, in-process) and remote (a daemon started here,
// simple_password_auth). Exit codes 0 SUCCESS / 1 FAIL / 2 usage, human
// tables and --json, and, last because it changes the cluster, a manual
// failover through the daemon with its steps table.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { API_FUNCTIONS } from '@handyrep/core';
import { createCluster } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';

const ADMIN = 'Cli-Admin-Pass-1';
const READ = 'Cli-Read-Pass-2';
const bin = fileURLToPath(new URL('../../../core/bin/handyrep.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the daemon lives in this process and must keep answering), with no HANDYREP_* from outside. */
function handyrep(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HANDYREP_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...clean, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const show = (run: Run): string => `exit ${String(run.code)}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

describe('handyrep command line on a cluster', { timeout: 600_000 }, () => {
  let cluster: Cluster;
  let daemon: Daemon;
  let libraryConf = '';
  let daemonConf = '';
  /** A library-mode configuration with its own state and log files: one process per state file, so parallel library calls each need one. */
  let libraryConfFor: (name: string) => string = () => '';
  let adminFile = '';
  let readFile = '';
  let admin: string[] = [];
  let reader: string[] = [];

  before(async () => {
    cluster = await createCluster({ replicas: 1 });
    const common = {
      failover: { auto_failover: false, poll_method: 'poll_isready' },
      server_defaults: { clone_method: null },
      passwords: { admin_password: ADMIN, read_password: READ },
    };
    daemonConf = cluster.writeConfig(undefined, { ...common, handyrep: { authentication_method: 'simple_password_auth' } });
    // Library mode gets its own state and log files: the running daemon holds the lock of its state file.
    libraryConfFor = (name) =>
      cluster.writeConfig(join(cluster.baseDir, `library-${name}.conf`), {
        ...common,
        handyrep: { server_file: join(cluster.baseDir, `library-${name}.save`), log_file: join(cluster.baseDir, `library-${name}.log`) },
      });
    libraryConf = libraryConfFor('main');
    adminFile = join(cluster.baseDir, 'admin.password');
    readFile = join(cluster.baseDir, 'read.password');
    writeFileSync(adminFile, `${ADMIN}\n`, { mode: 0o600 });
    writeFileSync(readFile, `${READ}\n`, { mode: 0o600 });
    daemon = await startDaemon(daemonConf, { port: 0 });
    admin = ['--url', daemon.url, '--user', 'admin', '--password-file', adminFile];
    reader = ['--url', daemon.url, '--user', 'read', '--password-file', readFile];
  });

  after(async () => {
    await daemon?.stop();
    await cluster?.teardown();
  });

  it('prints help for the program and each function with exit 0', async () => {
    const [program, poll] = await Promise.all([handyrep(['--help']), handyrep(['manual_failover', '--help'])]);
    assert.equal(program.code, 0, show(program));
    for (const fn of API_FUNCTIONS) assert.match(program.stdout, new RegExp(`\\n  ${fn.spec}\\b`), fn.spec);
    assert.equal(poll.code, 0, show(poll));
    assert.match(poll.stdout, /Usage: handyrep manual_failover \[options\] \[newmaster\]/);
    assert.match(poll.stdout, /--no-remaster/);
    assert.match(poll.stdout, /replica to promote \(selection when omitted\)/);
  });

  it('answers in library mode: status table and JSON, server info, a setting, a poll, an unknown server', async () => {
    // Run in parallel, so each call has its own state file (a second process on one state file is refused).
    const lib = (name: string): string[] => ['--config', libraryConfFor(name)];
    const [table, json, info, setting, poll, unknown] = await Promise.all([
      handyrep([...lib('table'), 'get_status']),
      handyrep([...lib('json'), '--json', 'get_status']),
      handyrep([...lib('info'), 'get_server_info', 'pg2']),
      handyrep([...lib('setting'), 'get_setting', 'failover', 'poll_interval']),
      handyrep([...lib('poll'), 'poll', 'pg2']),
      handyrep([...lib('unknown'), 'poll', 'nosuch']),
    ]);
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /^cluster: /);
    assert.match(table.stdout, /\npg1\s+master\s+127\.77\.\d+\.1\s+yes\s/);
    assert.match(table.stdout, /\npg2\s+replica\s+127\.77\.\d+\.2\s+yes\s/);
    assert.equal(json.code, 0, show(json));
    const status = JSON.parse(json.stdout) as { servers: Record<string, { role: string }> };
    assert.deepEqual(Object.keys(status.servers).sort(), ['pg1', 'pg2']);
    assert.equal(status.servers['pg2']?.role, 'replica');
    assert.equal(info.code, 0, show(info));
    assert.match(info.stdout, /^property\s+pg2\n/);
    assert.match(info.stdout, /\nrole\s+replica\n/);
    assert.equal(setting.code, 0, show(setting));
    assert.match(setting.stdout, /setting: failover\.poll_interval\nvalue: 1\n/);
    assert.equal(poll.code, 0, show(poll));
    assert.match(poll.stdout, /^SUCCESS: pg2 is responding to polling/);
    assert.equal(unknown.code, 1, show(unknown));
    assert.match(unknown.stdout, /^FAIL: .*nosuch/);
    assert.equal(table.stdout.includes('"level"') || table.stderr.includes('"level"'), false, 'no raw JSON log lines in library mode');
  });

  it('answers in remote mode: status table and JSON, server info, a setting, a poll, an unknown server', async () => {
    const [table, json, info, setting, poll, unknown] = await Promise.all([
      handyrep([...reader, 'get_status']),
      handyrep(['--json', 'get_status'], { HANDYREP_URL: daemon.url, HANDYREP_USER: 'read', HANDYREP_PASSWORD: READ }),
      handyrep([...reader, 'get_server_info', 'pg2']),
      handyrep([...reader, 'get_setting', 'failover', 'poll_interval']),
      handyrep([...reader, 'poll', 'pg2']),
      handyrep([...reader, 'poll', 'nosuch']),
    ]);
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /\npg1\s+master\s+127\.77\.\d+\.1\s+yes\s/);
    assert.equal(json.code, 0, show(json));
    // The daemon's monitor polls and verifies meanwhile, so status fields may move; the shape and identities may not.
    const shape = (value: unknown): unknown => {
      const status = value as { cluster: object; servers: Record<string, Record<string, unknown>> };
      return {
        cluster: Object.keys(status.cluster).sort(),
        servers: Object.fromEntries(Object.entries(status.servers).map(([name, server]) => [name, { keys: Object.keys(server).sort(), role: server['role'], hostname: server['hostname'], enabled: server['enabled'] }])),
      };
    };
    assert.deepEqual(shape(JSON.parse(json.stdout)), shape(JSON.parse(JSON.stringify(await daemon.hr.getStatus()))), 'the dictionary as the library gives it');
    assert.equal(info.code, 0, show(info));
    assert.match(info.stdout, /\nrole\s+replica\n/);
    assert.equal(setting.code, 0, show(setting));
    assert.match(setting.stdout, /^SUCCESS\nsetting: failover\.poll_interval\nvalue: 1\n/);
    assert.equal(poll.code, 0, show(poll));
    assert.match(poll.stdout, /^SUCCESS: pg2 is responding to polling/);
    assert.equal(unknown.code, 1, show(unknown));
    assert.match(unknown.stdout, /^FAIL: .*nosuch/);
  });

  it('pauses and resumes with admin credentials (exit 0); read credentials are refused (exit 1) and change nothing', async () => {
    const refused = await handyrep([...reader, 'pause']);
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.stdout, /^FAIL: user 'read' has read-only access/);
    assert.equal(daemon.hr.pausedSince(), undefined);
    const wrong = await handyrep(['--url', daemon.url, '--user', 'admin', '--password', 'not-it', 'pause']);
    assert.equal(wrong.code, 1, show(wrong));
    assert.match(wrong.stdout, /^FAIL: wrong user name or password/);
    const paused = await handyrep([...admin, 'pause']);
    assert.equal(paused.code, 0, show(paused));
    assert.match(paused.stdout, /^SUCCESS: /);
    assert.notEqual(daemon.hr.pausedSince(), undefined, 'the daemon is paused');
    const resumed = await handyrep([...admin, 'resume']);
    assert.equal(resumed.code, 0, show(resumed));
    assert.equal(daemon.hr.pausedSince(), undefined, 'and resumed');
  });

  it('refuses usage errors with exit 2 before calling anything; a wrong URL exits 1', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(free));
      });
    });
    const [missing, badInteger, libraryOnly, noDaemon] = await Promise.all([
      handyrep([...admin, 'poll']),
      handyrep(['--config', libraryConf, 'read_log', 'many']),
      handyrep([...admin, 'verify_master']),
      handyrep(['--url', `http://127.0.0.1:${port}`, '--user', 'admin', '--password-file', adminFile, 'get_status']),
    ]);
    assert.equal(missing.code, 2, show(missing));
    assert.match(missing.stderr, /missing required argument 'servername'/);
    assert.equal(badInteger.code, 2, show(badInteger));
    assert.match(badInteger.stderr, /numlines must be an integer, got "many"/);
    assert.equal(libraryOnly.code, 2, show(libraryOnly));
    assert.match(libraryOnly.stderr, /verify_master: library only/);
    assert.equal(noDaemon.code, 1, show(noDaemon));
    assert.match(noDaemon.stderr, /cannot connect to http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  it('library mode on the daemon\'s own configuration is refused (exit 1), naming the daemon and its URL', async () => {
    const savedBefore = JSON.parse(readFileSync(join(cluster.baseDir, 'servers.save'), 'utf8')) as { extra?: Record<string, unknown> };
    const refused = await handyrep(['--config', daemonConf, 'pause']);
    assert.equal(refused.code, 1, show(refused));
    assert.equal(refused.stdout, '');
    assert.ok(
      refused.stderr.startsWith(`handyrep: another HandyRep process (daemon pid ${process.pid}, web API at ${daemon.url}) manages ${join(cluster.baseDir, 'servers.save')}; send actions to it: handyrep --url ${daemon.url} <function>`),
      show(refused),
    );
    assert.equal(daemon.hr.pausedSince(), undefined, 'nothing paused');
    const savedAfter = JSON.parse(readFileSync(join(cluster.baseDir, 'servers.save'), 'utf8')) as { extra?: Record<string, unknown> };
    assert.equal(savedAfter.extra?.['paused'], undefined, 'no pause saved');
    assert.equal(savedBefore.extra?.['paused'], undefined);
  });

  it('fails over through the daemon and shows the steps as a table (last: it changes the cluster)', async () => {
    const failover = await handyrep([...admin, 'manual_failover', 'pg2']);
    assert.equal(failover.code, 0, show(failover));
    assert.match(failover.stdout, /^SUCCESS: /);
    assert.match(failover.stdout, /\nsteps:\n\s+step\s+result\s+duration\s+details\n\s+-+/);
    assert.match(failover.stdout, /\n\s+\S+\s+SUCCESS\s+\d+(\.\d)? m?s\s/);
    const master = await handyrep([...reader, 'get_master_name']);
    assert.equal(master.code, 0, show(master));
    assert.equal(master.stdout, 'pg2\n');
  });
});
