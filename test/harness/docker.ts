// Docker backend: one container per host, started with testcontainers, sharing
// the machine's network namespace (--network host: loopback addresses only,
// never a bridge) and PID namespace (--pid host: PIDs, /proc and signals mean
// the same as in the local backend, so faults and teardown are unchanged).
// The cluster's base directory is bind-mounted at the same path.
//
// Images: the plugin SDK's PostgreSQL images (plugin-sdk/images/build-image.sh:
// a `debootstrap --variant=minbase` Debian root with PostgreSQL, openssh-server
// and pgbouncer, `docker import`ed, cached by a content key; no registry):
// bookworm with PostgreSQL 15, trixie with PostgreSQL 17. Their postgres user
// has this machine's uid/gid, so the bind-mounted files mean the same inside.
//
// Commands run with `docker exec` (numeric uid:gid); daemons are started by a
// shell inside the container and orphaned to the container's shim, which reaps them.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { basename } from 'node:path';
import { postgresImage, type PostgresMajor } from '@handyrep/plugin-sdk/testing/postgres';
import type { HostSpec, Launcher, ProcHandle, ReaperHandle } from './launcher.js';
import { Daemon, isAlive, osUser, run, settlesWithin, signal, type DaemonOptions, type RunOptions, type RunResult } from './proc.js';
import { HostReaper } from './reaper.js';

const LABEL = 'org.handyrep.harness';

function dockerHost(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** null when a Docker engine answers on DOCKER_HOST (unix socket), else the reason it does not. */
export async function dockerAvailable(): Promise<string | null> {
  const host = dockerHost();
  if (!host.startsWith('unix://')) return `DOCKER_HOST=${host} is not a unix socket (only those are supported)`;
  const socketPath = host.slice('unix://'.length);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `engine at ${socketPath} answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`no engine answers at ${socketPath} (${err.message})`));
    req.end();
  });
}

const dockerEnv = () => ({ DOCKER_HOST: dockerHost() });

async function docker(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('docker', args, { ...opts, env: { ...dockerEnv(), ...opts.env } });
}

/** Removes containers of a cluster base dir (stale-slot cleanup; synchronous, best effort). */
export function removeContainersSync(baseDir: string): void {
  if (!process.env.DOCKER_HOST) return;
  const env = { ...process.env, ...dockerEnv() };
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=${LABEL}=${baseDir}`], { encoding: 'utf8', env, timeout: 10_000 }).stdout?.trim();
  if (ids) spawnSync('docker', ['rm', '-f', ...ids.split(/\s+/)], { stdio: 'ignore', env, timeout: 30_000 });
}

/** A process started inside a container: known by its (host) pid, watched through /proc. */
class ContainerProc implements ProcHandle {
  readonly whenExited: Promise<void>;
  constructor(readonly pid: number) {
    this.whenExited = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (!isAlive(pid)) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
      timer.unref();
    });
  }
  get running(): boolean {
    return isAlive(this.pid);
  }
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    signal(this.pid, sig);
    signal(this.pid, 'SIGCONT');
    if (!(await settlesWithin(this.whenExited, graceMs))) {
      signal(this.pid, 'SIGKILL');
      await settlesWithin(this.whenExited, 5_000);
    }
  }
}

interface Started {
  id: string;
  initPid: number;
  stop(): Promise<unknown>;
}

export class DockerLauncher implements Launcher {
  readonly kind = 'docker' as const;
  private readonly containers = new Map<string, Started>();
  private readonly procs: ProcHandle[] = [];
  private readonly reapers = new Map<string, HostReaper>();

  /** PostgreSQL major version of the hosts' image. */
  constructor(readonly postgresMajor: PostgresMajor = 15) {}

  async addHost(host: HostSpec, baseDir: string): Promise<void> {
    const image = await postgresImage(this.postgresMajor);
    // Ryuk's image cannot be pulled here; with --bridge=none there is no bridge gateway to find the host by.
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
    const { GenericContainer } = await import('testcontainers');
    class HostNamespaces extends GenericContainer {
      constructor(img: string) {
        super(img);
        this.hostConfig.PidMode = 'host';
      }
    }
    const mounts: Array<{ source: string; target: string; mode: 'ro' | 'rw' }> = [{ source: baseDir, target: baseDir, mode: 'rw' }];
    const started = await new HostNamespaces(image)
      .withNetworkMode('host')
      .withBindMounts(mounts)
      .withCommand(['/usr/bin/sleep', 'infinity'])
      .withLabels({ [LABEL]: baseDir, 'org.handyrep.host': host.name })
      .withName(`hr-${basename(baseDir)}-${host.name}`)
      .withStartupTimeout(60_000)
      .start();
    const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', started.getId()])).stdout.trim());
    this.containers.set(host.name, { id: started.getId(), initPid: pid, stop: () => started.stop({ timeout: 0 }) });
  }

  private container(host: string): Started {
    const c = this.containers.get(host);
    if (!c) throw new Error(`no container for host ${host}`);
    return c;
  }

  private execArgs(host: string, opts: { user?: string; env?: NodeJS.ProcessEnv; cwd?: string }, interactive: boolean): string[] {
    const args = ['exec'];
    if (interactive) args.push('-i');
    if (opts.user && opts.user !== 'root') {
      const u = osUser(opts.user);
      args.push('-u', `${u.uid}:${u.gid}`, '-e', `HOME=${u.home}`, '-e', `USER=${u.name}`);
    }
    for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) args.push('-e', `${k}=${v}`);
    args.push('-w', opts.cwd ?? '/', this.container(host).id);
    return args;
  }

  run(host: string | null, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (host === null) return run(cmd, args, opts);
    const { user, env, cwd, ...rest } = opts;
    return docker([...this.execArgs(host, { user, env, cwd }, true), cmd, ...args], rest);
  }

  async daemon(host: string | null, cmd: string, args: string[], opts: DaemonOptions): Promise<ProcHandle> {
    if (host === null) {
      const d = new Daemon(cmd, args, opts);
      this.procs.push(d);
      return d;
    }
    // $0 is the log file; the background process is orphaned to the container shim when sh exits.
    const script = '"$@" </dev/null >>"$0" 2>&1 & echo $!';
    const r = await docker([...this.execArgs(host, { user: opts.user, env: opts.env, cwd: opts.cwd }, false), '/bin/sh', '-c', script, opts.logFile, cmd, ...args]);
    const pid = Number(r.stdout.trim().split('\n').pop());
    if (!(pid > 0)) throw new Error(`could not start ${cmd} in ${host}: ${r.stdout} ${r.stderr}`);
    const proc = new ContainerProc(pid);
    this.procs.push(proc);
    return proc;
  }

  async reaper(host: string, logFile: string): Promise<ReaperHandle> {
    const r = new HostReaper(logFile, ['docker', 'exec', '-i', this.container(host).id]);
    this.reapers.set(host, r);
    if (!(await settlesWithin(r.ready, 20_000))) throw new Error(`the reaper in ${host}'s container did not start`);
    return r;
  }

  /** Kills every process of a host's container at once (`docker kill`; with --pid host the engine kills the container's whole cgroup). */
  async killHost(host: string): Promise<void> {
    await docker(['kill', this.container(host).id], { timeoutMs: 30_000 });
    // The host's reaper ran inside and is gone; the `docker exec -i` client that
    // carried it does not notice by itself (its stdin is still open): end it.
    const reaper = this.reapers.get(host);
    if (reaper) {
      reaper.child.kill('SIGKILL');
      await settlesWithin(reaper.whenExited, 5_000);
    }
  }

  /** Host pids of the containers' init processes (and daemons), for teardown checks. */
  ownPids(): number[] {
    return [...[...this.containers.values()].map((c) => c.initPid), ...this.procs.map((p) => p.pid)];
  }

  /** Container ids by host name. */
  containerIds(): Record<string, string> {
    return Object.fromEntries([...this.containers].map(([h, c]) => [h, c.id]));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop('SIGKILL', 2_000)));
    await Promise.all([...this.containers.values()].map((c) => c.stop().catch(() => docker(['rm', '-f', c.id], { check: false }))));
    this.containers.clear();
  }
}
