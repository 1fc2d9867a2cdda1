import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresIds } from './postgres-user.js';
import { descendants, runChecked, signalAll, spawnCaptured, waitForExit } from './processes.js';

/** One PostgreSQL 15 on a loopback address, superuser `postgres` with a scram password. */
export interface PostgresFixture {
  /** Listen address. */
  address: string;
  /** Listen port. */
  port: number;
  /** Superuser name. */
  superuser: string;
  /** Superuser password. */
  password: string;
  /** PID of the postmaster. */
  postmasterPid(): Promise<number>;
  /** The postmaster and every backend and auxiliary process under it. */
  allPids(): Promise<number[]>;
  /** Fast shutdown; kills whatever is left after 10 s. */
  stop(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

function asPostgres(argv: readonly string[]): string[] {
  return ['runuser', '-u', 'postgres', '--', ...argv];
}

/**
 * setpriv execs, so the postmaster is our direct child. Under runuser it would
 * not be: runuser stops itself when its child is SIGSTOPped and stays stopped
 * after SIGCONT, so it never reaps the postmaster and the test never ends.
 */
function execAsPostgres(argv: readonly string[], uid: number, gid: number): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...argv];
}

/** initdb + postgres under `dir`, listening on `address:port` only, with its own socket directory. */
export async function startPostgres(dir: string, address: string, port: number, password: string): Promise<PostgresFixture> {
  const { uid, gid } = await postgresIds();
  const base = join(dir, 'pg');
  const data = join(base, 'data');
  const sockets = join(base, 'sock');
  await mkdir(sockets, { recursive: true });
  await chmod(dir, 0o755);
  for (const path of [base, sockets]) await chown(path, uid, gid);
  const pwfile = join(base, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  await chown(pwfile, uid, gid);

  await runChecked(
    asPostgres([
      join(PG_BIN, 'initdb'),
      '-D', data,
      '-U', 'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      `--pwfile=${pwfile}`,
      '--no-sync',
      '--no-instructions',
      '-E', 'UTF8',
      '--locale=C',
    ]),
  );
  // initdb's default host lines cover 127.0.0.1 only; this server lives on another loopback address.
  const hba = join(data, 'pg_hba.conf');
  await writeFile(hba, 'local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\n');
  await chown(hba, uid, gid);

  const server = spawnCaptured(
    execAsPostgres([
      join(PG_BIN, 'postgres'),
      '-D', data,
      '-c', `listen_addresses=${address}`,
      '-c', `port=${port}`,
      '-c', `unix_socket_directories=${sockets}`,
      '-c', 'fsync=off',
      '-c', 'shared_buffers=16MB',
      '-c', 'max_connections=30',
    ], uid, gid),
  );
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = spawnCaptured([join(PG_BIN, 'pg_isready'), '-q', '-h', address, '-p', String(port), '-t', '1']);
    if ((await probe.exited) === 0) break;
    if (Date.now() > deadline) throw new Error(`PostgreSQL on ${address}:${port} did not start: ${server.output()}`);
    await sleep(100);
  }

  const postmasterPid = async (): Promise<number> => {
    const first = (await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0];
    return Number(first);
  };
  return {
    address,
    port,
    superuser: 'postgres',
    password,
    postmasterPid,
    allPids: async () => {
      const pid = await postmasterPid();
      return [pid, ...(await descendants(pid))];
    },
    stop: async () => {
      let pids: number[] = [];
      try {
        pids = [await postmasterPid(), ...(await descendants(await postmasterPid()))];
      } catch {
        // No pid file: the server is already down.
      }
      // Resume anything a test left stopped, or the fast shutdown would wait for it.
      signalAll(pids, 'SIGCONT');
      signalAll(pids.slice(0, 1), 'SIGINT');
      if (!(await waitForExit(server, 10_000))) {
        signalAll(pids, 'SIGKILL');
        await waitForExit(server, 5000);
      }
    },
  };
}
