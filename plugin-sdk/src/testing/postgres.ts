// A real PostgreSQL for plugin tests, in a container started with testcontainers,
// from the images HandyRep's own test harness uses (images/build-image.sh:
// Debian packages, no registry). A separate entry point,
// `@handyrep/plugin-sdk/testing/postgres`: nothing else in the SDK loads it, and
// it loads `testcontainers` (an optional peer dependency) only when called, so
// the SDK needs neither docker nor testcontainers unless a test asks for this.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { CommandOptions, CommandResult, RemoteShell } from '../capabilities/remote-shell.js';
import { TimeoutError } from '../errors.js';

/** The PostgreSQL major versions there are images for. */
export type PostgresMajor = 15 | 17;

/** Image flavour (build-image.sh argument) per major version: Debian 12 with 15, Debian 13 with 17. */
export const POSTGRES_IMAGE_FLAVOURS: Readonly<Record<PostgresMajor, string>> = { 15: 'bookworm-pg15', 17: 'trixie-pg17' };

/** Where the server binaries are in an image of that major version. */
export function postgresBinDir(major: PostgresMajor): string {
  return `/usr/lib/postgresql/${major}/bin`;
}

/** The image build script shipped with the SDK (`images/build-image.sh`). */
export function postgresImageScript(): string {
  return fileURLToPath(new URL('../../images/build-image.sh', import.meta.url));
}

/** Set (to anything) to make a missing engine an error instead of a reason to skip: CI sets it. */
export const REQUIRE_DOCKER_ENV = 'HANDYREP_REQUIRE_DOCKER';

function dockerHost(): string {
  return process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
}

function pingEngine(): Promise<string | undefined> {
  const host = dockerHost();
  if (!host.startsWith('unix://')) return Promise.resolve(`DOCKER_HOST=${host} is not a unix socket (only those are supported)`);
  const socketPath = host.slice('unix://'.length);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `the Docker engine at ${socketPath} answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (err) => resolve(`no Docker engine answers at ${socketPath} (${err.message}); set DOCKER_HOST`));
    req.end();
  });
}

/**
 * Why a test PostgreSQL container cannot be started here (no engine on
 * DOCKER_HOST, testcontainers not installed), or undefined when it can. Use it
 * as a skip reason. With HANDYREP_REQUIRE_DOCKER set it throws instead, so a CI
 * run without an engine fails rather than skipping.
 */
export async function postgresContainerProblem(): Promise<string | undefined> {
  let problem = await pingEngine();
  if (problem === undefined) {
    try {
      await import('testcontainers');
    } catch (err) {
      problem = `testcontainers is not installed (npm install --save-dev testcontainers@11): ${(err as Error).message}`;
    }
  }
  if (problem !== undefined && process.env[REQUIRE_DOCKER_ENV]) throw new Error(`${REQUIRE_DOCKER_ENV} is set but ${problem}`);
  return problem;
}

const images = new Map<PostgresMajor, Promise<string>>();

/**
 * The image for a major version: `HANDYREP_PG<major>_IMAGE` if set (an image the
 * engine has, with the binaries in /usr/lib/postgresql/<major>/bin, a postgres
 * user and /bin/sh), else the one build-image.sh makes or finds in its cache
 * (building it needs root, debootstrap and Debian's package mirror; about a
 * minute, once). Its progress goes to stderr.
 */
export function postgresImage(major: PostgresMajor): Promise<string> {
  const custom = process.env[`HANDYREP_PG${major}_IMAGE`];
  if (custom) return Promise.resolve(custom);
  let image = images.get(major);
  if (!image) {
    image = new Promise<string>((resolve, reject) => {
      const child = execFile('bash', [postgresImageScript(), POSTGRES_IMAGE_FLAVOURS[major]], { timeout: 15 * 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`could not make the PostgreSQL ${major} image: ${stderr.trim() || err.message}`));
        else resolve(stdout.trim().split('\n').pop() ?? '');
      });
      child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    });
    image.catch(() => images.delete(major));
    images.set(major, image);
  }
  return image;
}

/** What to start. */
export interface TestPostgresOptions {
  /** Major version (default 17). */
  major?: PostgresMajor;
  /** Loopback address to listen on (default 127.0.0.1); the container shares the machine's network. */
  host?: string;
  /** Port (default: a free one on `host`). */
  port?: number;
  /** Password of the superuser `postgres` (default: random). */
  password?: string;
  /** A database to create besides `postgres` (default: none; `database` is then `postgres`). */
  database?: string;
  /** Extra postgresql.conf settings (fsync is off unless set here). */
  settings?: Record<string, string | number | boolean>;
  /** Another image (default: postgresImage(major)). */
  image?: string;
  /** Limit for the whole start (default 120 s; a first image build takes longer: build it before). */
  timeoutMs?: number;
}

/** Result of a command run in the container. */
export interface TestPostgresExec {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A running test PostgreSQL. */
export interface TestPostgres {
  readonly major: PostgresMajor;
  readonly image: string;
  readonly containerId: string;
  /** Address and port it listens on. */
  readonly host: string;
  readonly port: number;
  /** Superuser `postgres` and its password (scram-sha-256 over TCP). */
  readonly user: string;
  readonly password: string;
  /** The created database, else `postgres`. */
  readonly database: string;
  /** Server binaries, data directory and Unix socket directory inside the container. */
  readonly pgBin: string;
  readonly pgdata: string;
  readonly socketDir: string;
  /** postgresql://… for `database` (or another one). */
  connectionString(database?: string): string;
  /** Runs a command in the container (as postgres unless told otherwise); throws on a non-zero exit when `check` (default true). */
  exec(argv: string[], options?: { user?: string; check?: boolean; env?: Record<string, string> }): Promise<TestPostgresExec>;
  /**
   * A RemoteShell whose every server is this container (commands run as
   * postgres; `runLocal` runs on this machine): give it to a plugin instead of
   * the fake one, `plugin.create({ ...kit.context, shell: pg.shell })`, and its
   * commands meet a real PostgreSQL.
   */
  readonly shell: RemoteShell;
  /** psql -X -At as postgres over the local socket; returns its output. */
  psql(sql: string, database?: string): Promise<string>;
  /** pg_ctl stop -m <mode> -w (default fast). */
  stopServer(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** pg_ctl start -w (after stopServer or a killed server). */
  startServer(): Promise<void>;
  /** Sends a signal to the postmaster (e.g. SIGSTOP: new connections get no answer; SIGCONT resumes). */
  signalServer(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGKILL' | 'SIGHUP'): Promise<void>;
  /** Removes the container (and the server with it). Safe to call twice. */
  stop(): Promise<void>;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function confValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return `'${value.replace(/'/g, "''")}'`;
}

const DIR = '/tmp/handyrep-pg';
const PGDATA = `${DIR}/data`;

// Runs as postgres in the container; the server is pg_ctl's child, orphaned to the container's init (which reaps).
const INIT_SCRIPT = String.raw`set -eu
umask 077
mkdir -p "$HR_DIR"
cd "$HR_DIR"
printf '%s\n' "$HR_PASSWORD" > pwfile
"$HR_BIN/initdb" -D data -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile=pwfile -E UTF8 --locale=C.UTF-8 -N >initdb.log 2>&1 || { cat initdb.log >&2; exit 1; }
rm -f pwfile
printf '%s\n' 'local all all trust' 'local replication all trust' 'host all all 127.0.0.0/8 scram-sha-256' 'host replication all 127.0.0.0/8 scram-sha-256' > data/pg_hba.conf
printf '%s\n' "$HR_SETTINGS" >> data/postgresql.conf
"$HR_BIN/pg_ctl" start -D data -l postgres.log -w -t 60 >/dev/null || { tail -n 30 postgres.log >&2; exit 1; }
`;

/**
 * Starts a PostgreSQL server in a container and returns once it accepts
 * connections. The container uses the machine's network (`--network host`:
 * the server listens on a loopback address, no bridge or port mapping is
 * needed) and an init process that reaps, so the server can be stopped,
 * killed and started again inside it. Call `stop()` when done.
 *
 * ```ts
 * import { postgresContainerProblem, startTestPostgres } from '@handyrep/plugin-sdk/testing/postgres';
 * const problem = await postgresContainerProblem();
 * describe('against PostgreSQL 17', { skip: problem }, () => {
 *   let pg: TestPostgres;
 *   before(async () => { pg = await startTestPostgres({ major: 17 }); });
 *   after(() => pg?.stop());
 *   it('...', async () => { ... pg.host, pg.port, pg.password ... });
 * });
 * ```
 */
export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const major = options.major ?? 17;
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  const image = options.image ?? (await postgresImage(major));
  const port = options.port ?? (await freePort(host));
  const password = options.password ?? randomBytes(12).toString('hex');
  const pgBin = postgresBinDir(major);
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= '127.0.0.1';
  const { GenericContainer } = await import('testcontainers');
  class WithInit extends GenericContainer {
    constructor(name: string) {
      super(name);
      // The engine's init (docker-init) as pid 1: it reaps the server pg_ctl leaves behind.
      this.hostConfig.Init = true;
    }
  }
  const container = await new WithInit(image)
    .withNetworkMode('host')
    .withCommand(['sleep', 'infinity'])
    .withLabels({ 'org.handyrep.testing': 'postgres' })
    .withStartupTimeout(Math.max(1000, deadline - Date.now()))
    .start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await container.stop({ timeout: 0 });
  };
  const exec = async (argv: string[], opts: { user?: string; check?: boolean; env?: Record<string, string> } = {}): Promise<TestPostgresExec> => {
    const result = await container.exec(argv, { user: opts.user ?? 'postgres', ...(opts.env ? { env: opts.env } : {}) });
    if ((opts.check ?? true) && result.exitCode !== 0) {
      throw new Error(`${argv.join(' ')} exited with ${result.exitCode} in the test PostgreSQL container: ${(result.stderr || result.stdout).trim()}`);
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  };
  const shell = containerShell(exec);
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: host,
    port,
    unix_socket_directories: DIR,
    fsync: false,
    ...(options.settings ?? {}),
  };
  try {
    await exec(['/bin/sh', '-c', INIT_SCRIPT], {
      env: {
        HR_DIR: DIR,
        HR_BIN: pgBin,
        HR_PASSWORD: password,
        HR_SETTINGS: Object.entries(settings)
          .map(([key, value]) => `${key} = ${confValue(value)}`)
          .join('\n'),
      },
    });
    const psql = async (sql: string, database = 'postgres'): Promise<string> =>
      (await exec([`${pgBin}/psql`, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', DIR, '-p', String(port), '-U', 'postgres', '-d', database, '-c', sql])).stdout.trim();
    if (options.database && options.database !== 'postgres') await psql(`CREATE DATABASE "${options.database.replace(/"/g, '""')}"`);
    const database = options.database ?? 'postgres';
    return {
      major,
      image,
      containerId: container.getId(),
      host,
      port,
      user: 'postgres',
      password,
      database,
      pgBin,
      pgdata: PGDATA,
      socketDir: DIR,
      connectionString: (db = database) => `postgresql://postgres:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(db)}`,
      exec,
      shell,
      psql,
      async stopServer(mode = 'fast') {
        await exec([`${pgBin}/pg_ctl`, 'stop', '-D', PGDATA, '-m', mode, '-w', '-t', '60']);
      },
      async startServer() {
        await exec([`${pgBin}/pg_ctl`, 'start', '-D', PGDATA, '-l', `${DIR}/postgres.log`, '-w', '-t', '60']);
      },
      async signalServer(signal) {
        await exec(['/bin/sh', '-c', `kill -${signal.slice(3)} "$(head -n 1 ${PGDATA}/postmaster.pid)"`], { user: 'root' });
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}


type Exec = (argv: string[], options?: { user?: string; check?: boolean; env?: Record<string, string> }) => Promise<TestPostgresExec>;

/** RemoteShell semantics over `exec`: a non-zero exit is a result, a time-out throws TimeoutError. */
function containerShell(exec: Exec): RemoteShell {
  const bounded = async (argv: string[], options: CommandOptions | undefined, env: Record<string, string> = {}): Promise<CommandResult> => {
    const started = Date.now();
    const timeoutMs = options?.timeoutMs ?? 60_000;
    let command = argv;
    if (options?.input !== undefined) {
      command = ['/bin/sh', '-c', 'printf %s "$HR_INPUT" | "$@"', 'sh', ...argv];
      env = { ...env, HR_INPUT: options.input };
    }
    // The container's own `timeout` ends the command; the race bounds the wait for the answer.
    command = ['timeout', '-s', 'KILL', String(Math.ceil(timeoutMs / 1000)), ...command];
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        exec(command, { check: false, env }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`${argv.join(' ')} did not finish within ${timeoutMs} ms`)), timeoutMs + 2000);
        }),
      ]);
      if (result.exitCode === 137 && Date.now() - started >= timeoutMs) throw new TimeoutError(`${argv.join(' ')} did not finish within ${timeoutMs} ms`);
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, durationMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    run: (_server, argv, options) => bounded([...argv], options),
    runScript: (_server, script, options) => bounded(['/bin/sh', '-c', script], options),
    async writeFile(_server, path, content, options) {
      const mode = (options?.mode ?? 0o600).toString(8);
      const script = 'umask 077; t="$1.tmp.$$"; printf %s "$HR_CONTENT" > "$t" && chmod "$2" "$t" && mv -f "$t" "$1"';
      const result = await bounded(['/bin/sh', '-c', script, 'sh', path, mode], options, { HR_CONTENT: content });
      if (result.exitCode !== 0) throw new Error(`writing ${path} in the test PostgreSQL container failed: ${result.stderr.trim()}`);
    },
    runLocal: (argv, options) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const [file, ...args] = argv;
        if (!file) return reject(new Error('runLocal needs a command'));
        const child = execFile(file, args, { timeout: options?.timeoutMs ?? 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
          const failure = err as (Error & { code?: unknown; killed?: boolean }) | null;
          if (failure?.killed) return reject(new TimeoutError(`${argv.join(' ')} did not finish in time`));
          if (failure && typeof failure.code !== 'number') return reject(failure);
          resolve({ exitCode: failure ? Number(failure.code) : 0, stdout, stderr, durationMs: Date.now() - started });
        });
        if (options?.input !== undefined) child.stdin?.end(options.input);
      }),
  };
}
