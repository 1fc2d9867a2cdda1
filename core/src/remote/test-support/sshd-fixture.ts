import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresIds } from './postgres-user.js';
import { runChecked, spawnCaptured, waitForExit } from './processes.js';
import type { Captured } from './processes.js';

/** A private sshd on one loopback address, for the postgres user, with its own host and client keys. */
export interface SshdFixture {
  /** Listen address. */
  address: string;
  /** Listen port. */
  port: number;
  /** Private key that logs in as `user`. */
  clientKeyPath: string;
  /** Login user. */
  user: string;
  /** The host's public key as `type base64`. */
  hostKey: string;
  /** A known_hosts line for this sshd. */
  knownHostsLine: string;
  /** A known_hosts line for this address with some other key (a "changed host key"). */
  wrongKnownHostsLine: string;
  /** A private key sshd does not accept for anyone. */
  unauthorizedKeyPath: string;
  /** A directory the login user may write to. */
  userDir: string;
  /** PID of the listening sshd. */
  pid(): number;
  /** Stops the listener (existing sessions live on, as with a real sshd). */
  stop(): Promise<void>;
  /** Starts the listener again with the same keys. */
  start(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

async function publicKey(path: string): Promise<string> {
  const [type, blob] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
  return `${type} ${blob}`;
}

async function waitForBanner(address: string, port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, address);
      socket.setTimeout(500, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('SSH-'));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`sshd on ${address}:${port} did not answer within ${ms} ms`);
}

/** Creates keys and config under `dir` and starts sshd on `address:port` as a child process. */
export async function startSshd(dir: string, address: string, port: number): Promise<SshdFixture> {
  const base = join(dir, 'sshd');
  await mkdir(base, { recursive: true });
  // sshd reads authorized_keys as the login user, who must be able to reach it.
  await chmod(dir, 0o755);
  await chmod(base, 0o755);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKeyPath = join(base, 'host_ed25519');
  const otherKeyPath = join(base, 'other_ed25519');
  const clientKeyPath = join(base, 'client_ed25519');
  await Promise.all(
    [hostKeyPath, otherKeyPath, clientKeyPath].map((path) =>
      runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'handyrep-test', '-f', path]),
    ),
  );
  const authorizedKeys = join(base, 'authorized_keys');
  await writeFile(authorizedKeys, `${await publicKey(clientKeyPath)}\n`, { mode: 0o644 });
  const userDir = join(dir, 'postgres-home');
  await mkdir(userDir, { recursive: true });
  const { uid, gid } = await postgresIds();
  await chown(userDir, uid, gid);

  const config = join(base, 'sshd_config');
  await writeFile(
    config,
    [
      `ListenAddress ${address}:${port}`,
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(base, 'sshd.pid')}`,
      // The postgres account is locked; only PAM lets key logins into it.
      'UsePAM yes',
      'StrictModes no',
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      'AllowUsers postgres',
      'MaxStartups 100:30:200',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  await runChecked([SSHD, '-t', '-f', config]);

  const hostKey = await publicKey(hostKeyPath);
  let running: Captured | undefined;
  const fixture: SshdFixture = {
    address,
    port,
    clientKeyPath,
    user: 'postgres',
    hostKey,
    knownHostsLine: `[${address}]:${port} ${hostKey}`,
    wrongKnownHostsLine: `[${address}]:${port} ${await publicKey(otherKeyPath)}`,
    unauthorizedKeyPath: otherKeyPath,
    userDir,
    pid: () => {
      if (running?.child.pid === undefined) throw new Error('sshd is not running');
      return running.child.pid;
    },
    start: async () => {
      running = spawnCaptured([SSHD, '-D', '-e', '-f', config]);
      try {
        await waitForBanner(address, port, 5000);
      } catch (err) {
        throw new Error(`${(err as Error).message}; sshd said: ${running.output()}`);
      }
    },
    stop: async () => {
      const current = running;
      running = undefined;
      if (!current || current.child.pid === undefined) return;
      current.child.kill('SIGTERM');
      if (!(await waitForExit(current, 3000))) {
        current.child.kill('SIGKILL');
        await current.exited;
      }
    },
  };
  await fixture.start();
  return fixture;
}
