// `npm run sandbox`: a HandyRep playground on this machine. A real cluster
// built by the test harness (master pg1, replicas pg2 and pg3, pgbouncer on
// bouncer1, each its own loopback address with its own sshd) and the HandyRep
// daemon running in this process with automatic failover on. Prints how to
// reach everything and how to cause a failover; Ctrl-C (SIGINT), SIGTERM or
// SIGHUP stop the daemon, tear the cluster down and exit 0. See docs/sandbox.md.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDaemon, type Daemon } from '@handyrep/core/daemon';
import { createCluster, isAlive, liveClusters, PG_BIN, setSignalTeardown, type Cluster, type TeardownReport } from '../harness/index.js';
import { generateWebPasswords, pgbouncerIniForHandyrep, sandboxOverrides, SANDBOX_LAYOUT, SANDBOX_WEB_PORT, type WebPasswords } from './sandbox-config.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Files the sandbox keeps in its state directory; only these are removed at start. */
// Never servers.save.lock: deleting a lock file while a process holds it would let a second one lock a new file.
const STATE_FILES = /^(handyrep\.conf|handyrep\.log|servers\.save(?!\.lock$).*|admin\.password|read\.password)$/;

const CONFIG_HEADER = [
  '; The HandyRep sandbox\'s configuration (npm run sandbox), written at its start with',
  '; passwords generated for this run. handyrep.conf.example is the same file, commented.',
  '',
].join('\n');

interface Options {
  stateDir: string;
  port: number;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-dir': { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      [
        'usage: npm run sandbox [-- --port N] [-- --state-dir DIR]',
        '  --port N         web API port to try first (default 8754; a free one if taken)',
        '  --state-dir DIR  where handyrep.conf, handyrep.log and servers.save go (default ./sandbox)',
      ].join('\n'),
    );
    process.exit(0);
  }
  const port = values.port === undefined ? SANDBOX_WEB_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port: '${values.port}' is not a port number`);
  return { stateDir: resolve(values['state-dir'] ?? join(repoRoot, 'sandbox')), port };
}

/** Why this machine cannot run the sandbox, or null. */
function preflightProblem(): string | null {
  if (process.getuid?.() !== 0) {
    return [
      'the sandbox must run as root: it starts PostgreSQL as the postgres user, one sshd per host',
      'and pgbouncer on loopback addresses 127.0.10.x. Run it as root (e.g. `sudo npm run sandbox`).',
    ].join('\n');
  }
  if (!existsSync(join(PG_BIN, 'postgres'))) {
    return `PostgreSQL 15 server binaries not found in ${PG_BIN} (install postgresql-15, e.g. apt-get install postgresql-15).`;
  }
  for (const tool of ['/usr/sbin/sshd', '/usr/sbin/pgbouncer']) {
    if (!existsSync(tool)) return `${tool} is missing: run \`bash test/scripts/setup-system.sh\` (or \`npm run sandbox\`, which runs it).`;
  }
  return null;
}

/** A path as the operator should type it from the current directory. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function clearState(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // A servers.save left by an earlier run would be canonical and name the wrong master.
  for (const name of readdirSync(stateDir)) if (STATE_FILES.test(name)) rmSync(join(stateDir, name), { force: true });
}

async function startWeb(configFile: string, port: number): Promise<Daemon> {
  try {
    return await startDaemon(configFile, { port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.log(`port ${port} is taken; the web API listens on a free port instead`);
    return startDaemon(configFile, { port: 0 });
  }
}

function time(): string {
  return new Date().toTimeString().slice(0, 8);
}

function killLine(cluster: Cluster, master: string): string {
  const pid = cluster.postmasterPid(master);
  return pid ? `kill -9 ${pid}` : `(no running postmaster on ${master})`;
}

function banner(cluster: Cluster, daemon: Daemon, web: WebPasswords, configFile: string, stateDir: string, upMs: number): string {
  const bouncer = cluster.pgbouncers[0]!;
  const master = cluster.master.name;
  const psql = (db: string): string =>
    `PGPASSWORD=${cluster.superuserPassword} psql "host=${bouncer.address} port=${bouncer.pgPort} dbname=${db} user=${cluster.superuser}"`;
  const servers = cluster.hosts.map((h) => {
    const pid = h.kind === 'postgres' ? cluster.postmasterPid(h) : null;
    const role = h.initialRole === 'pgbouncer' ? 'pgbouncer' : h.initialRole;
    return `  ${h.name.padEnd(9)} ${role.padEnd(10)} ${`${h.address}:${h.pgPort}`.padEnd(18)} ${pid ? `postmaster pid ${pid}` : ''}`.trimEnd();
  });
  const url = `${daemon.url}/`;
  return [
    '',
    `HandyRep sandbox is up (${(upMs / 1000).toFixed(1)} s): master ${master}, replicas ${cluster.replicas.map((r) => r.name).join(' and ')}, pgbouncer on ${bouncer.name}`,
    '',
    `Dashboard:   ${url}`,
    `  admin:     user admin, password ${web.admin}`,
    `  read-only: user read,  password ${web.read}`,
    `Web API:     curl -u read:${web.read} ${daemon.url}/get_status`,
    '',
    'SQL through pgbouncer (appdb goes to the master, appdb_ro to a replica):',
    `  ${psql('appdb')}`,
    `  ${psql('appdb_ro')}`,
    '',
    'Command line (the daemon has the state file, so commands go to its web API):',
    `  node ${shown(join(repoRoot, 'core/bin/handyrep.js'))} --url ${daemon.url} --user read --password-file ${shown(join(stateDir, 'read.password'))} get_status`,
    `  (actions: --user admin --password-file ${shown(join(stateDir, 'admin.password'))}; config: ${shown(configFile)}; log: ${shown(join(stateDir, 'handyrep.log'))})`,
    '',
    'Servers:',
    ...servers,
    `  files under ${cluster.baseDir}`,
    '',
    `Cause a failover: kill the master's postmaster and watch the dashboard (or ${daemon.url}/get_master_name):`,
    `  ${killLine(cluster, master)}`,
    '',
    'Ctrl-C stops HandyRep and removes the cluster.',
    '',
  ].join('\n');
}

/** Prints what happens to the master while the sandbox runs: its postmaster dying, then the failover. */
function watchMaster(cluster: Cluster, daemon: Daemon): () => void {
  let master = daemon.hr.getMasterName();
  let masterPid = master ? cluster.postmasterPid(master) : null;
  let diedAt: number | null = null;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      if (masterPid !== null && diedAt === null && !isAlive(masterPid)) {
        diedAt = Date.now();
        console.log(`${time()}  ${master}'s postmaster (pid ${masterPid}) is gone; HandyRep is checking the master...`);
      }
      const now = daemon.hr.getMasterName();
      const restartedPid = master !== null && now === master && diedAt !== null ? cluster.postmasterPid(master) : null;
      if (restartedPid !== null && restartedPid !== masterPid) {
        // A restart (restart, restart_cluster, restart_master after a crash): the same master, a new postmaster.
        console.log(`${time()}  ${master} is the master again, restarted (postmaster pid ${restartedPid}); no failover`);
        console.log(`${time()}  fail over: kill -9 ${restartedPid}   (${master}'s postmaster)`);
        masterPid = restartedPid;
        diedAt = null;
      }
      if (now !== master) {
        // "stopped", not "killed": a planned switchover stops the old master too.
        const took = diedAt === null ? '' : ` ${((Date.now() - diedAt) / 1000).toFixed(1)} s after its postmaster stopped`;
        console.log(`${time()}  failover: ${now ?? 'nobody'} is the master now (was ${master})${took}`);
        const status = await daemon.hr.getStatus();
        if ('servers' in status) {
          for (const [name, s] of Object.entries(status.servers)) {
            console.log(`${time()}    ${name.padEnd(9)} ${s.role.padEnd(10)} ${(s.enabled ? 'enabled' : 'disabled').padEnd(9)} ${s.status}${s.status_message ? `: ${s.status_message}` : ''}`);
          }
        }
        master = now;
        masterPid = now ? cluster.postmasterPid(now) : null;
        diedAt = null;
        if (now && masterPid) console.log(`${time()}  fail over again: kill -9 ${masterPid}   (${now}'s postmaster)`);
      }
    })()
      .catch((err: unknown) => console.log(`${time()}  (watch: ${err instanceof Error ? err.message : String(err)})`))
      .finally(() => {
        busy = false;
      });
  }, 250);
  return () => clearInterval(timer);
}

function describeTeardown(report: TeardownReport): string {
  const left = report.survivors.length === 0 ? 'none left' : `${report.survivors.length} LEFT: ${report.survivors.join(', ')}`;
  const dir = existsSync(report.baseDir) ? `${report.baseDir} still exists` : `${report.baseDir} removed`;
  const errors = report.errors.length === 0 ? '' : `; errors: ${report.errors.join('; ')}`;
  return `teardown: ${report.pids.length} processes stopped (${left}), ${dir}, ${report.ms} ms${errors}`;
}

// Run state, shared with the signal handlers.
let daemon: Daemon | undefined;
let stopWatch: (() => void) | undefined;
let stopping: Promise<never> | undefined;
/** The bring-up step in progress: a teardown waits for it, so nothing is started behind its back. */
let step: Promise<unknown> = Promise.resolve();

function track<T>(work: Promise<T>): Promise<T> {
  step = work.catch(() => undefined);
  return work;
}

/** Stops the daemon, then the cluster, and exits with `code`; idempotent. */
function shutdown(why: string, code: number): Promise<never> {
  stopping ??= (async () => {
    stopWatch?.();
    await step;
    if (daemon || liveClusters().length > 0) console.log(`\n${time()}  ${why}: stopping HandyRep and tearing the cluster down...`);
    await daemon?.stop().catch((err: unknown) => console.error(`sandbox: stopping the daemon: ${String(err)}`));
    for (const cluster of liveClusters()) console.log(describeTeardown(await cluster.teardown()));
    process.exit(code);
  })();
  return stopping;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const problem = preflightProblem();
  if (problem) {
    console.error(`sandbox: ${problem}`);
    process.exit(2);
  }

  // Signals are ours: stop the daemon first, then the cluster, and exit 0.
  setSignalTeardown(false);
  let signals = 0;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // A second signal while tearing down: the synchronous emergency teardown (on exit) finishes the job.
      if (++signals > 1) process.exit(130);
      void shutdown(sig, 0);
    });
  }
  const crash = (err: unknown): void => {
    console.error(`sandbox: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void shutdown('error', 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const started = Date.now();
  console.log(`Building the sandbox cluster at ${SANDBOX_LAYOUT.baseDir} (PostgreSQL 15, sshd and pgbouncer on ${SANDBOX_LAYOUT.addressPrefix}.x)...`);
  const cluster = await track(
    createCluster({
      replicas: 2,
      pgbouncer: 1,
      fixed: SANDBOX_LAYOUT,
      // Replicas notice a silent master within 2 s, so their opinion during a failover check is fresh.
      pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' },
    }),
  );
  if (stopping) return;
  // Only now: the claim on the addresses makes this the one sandbox, so its state is ours to clear.
  clearState(options.stateDir);
  const bouncer = cluster.pgbouncers[0]!;
  writeFileSync(bouncer.pgbouncerIni!, pgbouncerIniForHandyrep(cluster, bouncer));

  const web = generateWebPasswords();
  const configFile = join(options.stateDir, 'handyrep.conf');
  writeFileSync(configFile, `${CONFIG_HEADER}${cluster.handyrepConf(sandboxOverrides(cluster, web))}`, { mode: 0o600 });
  writeFileSync(join(options.stateDir, 'admin.password'), `${web.admin}\n`, { mode: 0o600 });
  writeFileSync(join(options.stateDir, 'read.password'), `${web.read}\n`, { mode: 0o600 });

  daemon = await track(startWeb(configFile, options.port));
  if (stopping) return;
  const hr = daemon.hr;
  await track(
    (async () => {
      // multi_pgbouncer routes the _ro aliases by the replicas' last status: verify first.
      const verified = await hr.verifyAll();
      if (verified.result !== 'SUCCESS') throw new Error(`verify_all: ${verified.result}: ${verified.details}`);
      // The harness copied the replicas without slots: the daemon's first healthy check gives each its slot (use_slots is on).
      const proxies = await hr.connectionProxyInit();
      if (proxies.result !== 'SUCCESS') throw new Error(`connection_proxy_init: ${proxies.result}: ${proxies.details}`);
      const through = await cluster.query<{ r: boolean }>(bouncer, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs: 3000 });
      if (through[0]?.r !== false) throw new Error('appdb through pgbouncer does not reach the master');
    })(),
  );
  if (stopping) return;

  console.log(banner(cluster, daemon, web, configFile, options.stateDir, Date.now() - started));
  stopWatch = watchMaster(cluster, daemon);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`sandbox: ${(err as Error).message} (--help for usage)`);
    process.exit(2);
  }
  console.error(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
  void shutdown('error', 1);
});
