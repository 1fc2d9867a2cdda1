// Docker backend: one container per host, started with testcontainers, sharing
// the machine's network namespace (--network host: loopback addresses only,
// never a bridge) and PID namespace (--pid host: PIDs, /proc and signals mean
// the same as in the local backend, so faults and teardown are unchanged).
// The cluster's base directory is bind-mounted at the same path.
//
// Image: no registry is reachable, so by default the harness `docker import`s
// a tiny root filesystem (mount points and usr-merge symlinks only) and
// bind-mounts the machine's /usr and /etc read-only: the containers run this
// machine's PostgreSQL 15, sshd and pgbouncer in their own mount namespaces.
// HARNESS_DOCKER_IMAGE names another image instead (e.g. one imported from a
// debootstrap tree with postgresql-15, openssh-server and pgbouncer, the
// postgres user at the same uid/gid as here); it must have /usr/bin/sleep,
// /usr/bin/perl and /bin/sh, and then /usr and /etc are not mounted.
//
// Commands run with `docker exec` (numeric uid:gid: the engine resolves user
// names in the image, not in mounts); daemons are started by a shell inside
// the container and orphaned to the container's shim, which reaps them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { HostSpec, Launcher, ProcHandle, ReaperHandle } from './launcher.js';
import { Daemon, isAlive, osUser, run, settlesWithin, signal, type DaemonOptions, type RunOptions, type RunResult } from './proc.js';
import { HostReaper } from './reaper.js';

export const DEFAULT_DOCKER_IMAGE = 'handyrep-harness-hostfs:1';
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

let imageReady: Promise<string> | null = null;
/** The image to use; builds the host-filesystem image on first use. */
export function ensureImage(): Promise<string> {
  imageReady ??= (async () => {
    const custom = process.env.HARNESS_DOCKER_IMAGE;
    const image = custom ?? DEFAULT_DOCKER_IMAGE;
    const have = await docker(['image', 'inspect', image], { check: false });
    if (have.code === 0) return image;
    if (custom) throw new Error(`image ${custom} (HARNESS_DOCKER_IMAGE) is not in the engine`);
    const root = mkdtempSync(join(tmpdir(), 'hr-image-'));
    try {
      for (const d of ['usr', 'etc', 'tmp', 'run/sshd', 'var/lib/postgresql', 'var/run', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
      chmodSync(join(root, 'tmp'), 0o1777);
      for (const [link, to] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) symlinkSync(to, join(root, link));
      await run('sh', ['-c', `tar -C '${root}' -c . | docker import -c 'CMD ["/usr/bin/sleep","infinity"]' - ${image}`], { env: dockerEnv(), timeoutMs: 120_000 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    return image;
  })();
  imageReady.catch(() => (imageReady = null));
  return imageReady;
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

  async addHost(host: HostSpec, baseDir: string): Promise<void> {
    const image = await ensureImage();
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
    if (image === DEFAULT_DOCKER_IMAGE) {
      mounts.push({ source: '/usr', target: '/usr', mode: 'ro' }, { source: '/etc', target: '/etc', mode: 'ro' });
    }
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
    if (!(await settlesWithin(r.ready, 20_000))) throw new Error(`the reaper in ${host}'s container did not start`);
    return r;
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
