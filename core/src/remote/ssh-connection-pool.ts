import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import type { Logger } from '@handyrep/plugin-sdk';
import { ErrorCodes, HandyRepError, TimeoutError, errorMessage } from '@handyrep/plugin-sdk';
import { Client } from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import type { HostKeyChecker } from './host-key-checker.js';
import { SshConnection, describeEndpoint } from './ssh-connection.js';
import type { SshConnectionLimits, SshEndpoint } from './ssh-connection.js';

/** How the pool opens connections. */
export interface SshPoolSettings extends SshConnectionLimits {
  /** Private key file; empty uses the agent at `SSH_AUTH_SOCK`. */
  sshKeyPath: string;
  /** Time allowed for TCP connect, key exchange and authentication. */
  connectTimeoutMs: number;
  /** Interval of SSH-level keepalive requests on an otherwise idle connection. */
  keepaliveIntervalMs: number;
  /** Unanswered keepalives after which the connection is considered dead. */
  keepaliveCountMax: number;
}

type Authentication = Pick<ConnectConfig, 'privateKey' | 'agent'>;

function poolKey(endpoint: SshEndpoint): string {
  return `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
}

/** Rejects with `signal.reason` as soon as `signal` aborts, without cancelling `promise` itself. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * One SSH connection per host, port and user, opened on first use and reused
 * by every later command; callers arriving while it connects share the
 * attempt. A connection that closes or stops answering leaves the pool, so the
 * next command opens a new one.
 */
export class SshConnectionPool {
  private readonly connections = new Map<string, SshConnection>();
  // Every connection whose socket may still be open, including ones no longer handed out.
  private readonly live = new Set<SshConnection>();

  constructor(
    private readonly settings: SshPoolSettings,
    private readonly hostKeys: HostKeyChecker,
    private readonly logger: Logger,
  ) {}

  /** A ready connection to `endpoint`; rejects with SSH_CONNECT, SSH_HOST_KEY, TIMEOUT or `signal.reason`. */
  async acquire(endpoint: SshEndpoint, signal: AbortSignal): Promise<SshConnection> {
    for (;;) {
      const key = poolKey(endpoint);
      let connection = this.connections.get(key);
      if (!connection) {
        connection = this.open(endpoint);
        this.connections.set(key, connection);
      }
      if (connection.probing) {
        // Its health is in doubt after a timed-out command: don't wait to find out, use a fresh one.
        connection.retire();
        continue;
      }
      await untilAborted(connection.ready, signal);
      if (connection.state === 'ready') return connection;
      // It closed between becoming ready and now: open another.
    }
  }

  /** Ends every connection, retired ones included; resolves once their sockets are closed (dead peers are cut after a second). */
  async close(): Promise<void> {
    const all = [...this.live];
    this.connections.clear();
    await Promise.all(all.map((connection) => connection.end(1000)));
  }

  /** Number of pooled connections (open or opening), for tests and metrics. */
  get size(): number {
    return this.connections.size;
  }

  private open(endpoint: SshEndpoint): SshConnection {
    const client = new Client();
    const connection = new SshConnection(endpoint, client, this.settings, this.logger, (closed) => {
      const key = poolKey(closed.endpoint);
      if (this.connections.get(key) === closed) this.connections.delete(key);
    });
    let hostKeyError: unknown;
    let settle: ((err?: unknown) => void) | undefined;

    // Listeners go on before anything can fail: an 'error' without a listener would crash the process.
    client.on('error', (err: Error & { level?: string }) => {
      if (settle) {
        settle(this.connectError(endpoint, err, hostKeyError));
        return;
      }
      this.logger.debug('ssh connection error', { server: endpoint.server, error: err.message, level: err.level });
    });
    this.live.add(connection);
    client.on('close', () => {
      this.live.delete(connection);
      connection.markClosed();
      settle?.(new HandyRepError(ErrorCodes.SSH_CONNECT, `ssh connection to ${describeEndpoint(endpoint)} closed during login`));
    });
    client.on('ready', () => {
      connection.state = 'ready';
      settle?.();
    });

    connection.ready = (async () => {
      const authentication = await this.authentication();
      const check = await this.hostKeys.prepare(endpoint.server, endpoint.host, endpoint.port);
      const config: ConnectConfig = {
        username: endpoint.user,
        ...authentication,
        readyTimeout: this.settings.connectTimeoutMs,
        keepaliveInterval: this.settings.keepaliveIntervalMs,
        keepaliveCountMax: this.settings.keepaliveCountMax,
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void): void => {
          check.verify(key).then(
            () => verify(true),
            (err: unknown) => {
              hostKeyError = err;
              verify(false);
            },
          );
        },
      };
      if (check.algorithms) config.algorithms = { serverHostKey: check.algorithms };
      await new Promise<void>((resolve, reject) => {
        settle = (err?: unknown): void => {
          settle = undefined;
          if (err === undefined) resolve();
          else reject(err);
        };
        try {
          // Our own socket (ssh2 waits for its 'connect' under readyTimeout), so it can always be destroyed.
          const socket = new Socket();
          socket.setNoDelay(true);
          connection.socket = socket;
          socket.connect({ host: endpoint.host, port: endpoint.port });
          client.connect({ ...config, sock: socket });
        } catch (err) {
          connection.socket?.destroy();
          this.live.delete(connection);
          // ssh2 validates the key synchronously (e.g. an encrypted key without passphrase).
          settle(
            new HandyRepError(
              ErrorCodes.SSH_CONNECT,
              `cannot use ssh_key ${this.settings.sshKeyPath || '(agent)'} for ${describeEndpoint(endpoint)}: ${errorMessage(err)}`,
              { cause: err },
            ),
          );
        }
      });
      this.logger.debug('ssh connected', { server: endpoint.server, host: endpoint.host, port: endpoint.port, user: endpoint.user });
    })();
    connection.ready.catch(() => {
      connection.discard('connect failed');
      // It never connected: no 'close' will come to take it off the live list.
      if (!connection.socket) this.live.delete(connection);
    });
    return connection;
  }

  private async authentication(): Promise<Authentication> {
    const path = this.settings.sshKeyPath;
    if (path !== '') {
      try {
        return { privateKey: await readFile(path) };
      } catch (err) {
        throw new HandyRepError(ErrorCodes.SSH_CONNECT, `cannot read ssh_key ${path}: ${errorMessage(err)}`, { cause: err });
      }
    }
    const agent = process.env['SSH_AUTH_SOCK'];
    if (agent) return { agent };
    throw new HandyRepError(
      ErrorCodes.SSH_CONNECT,
      'no SSH credentials: [handyrep] ssh_key is empty and SSH_AUTH_SOCK is not set (set ssh_key to a private key file or run an ssh-agent)',
    );
  }

  private connectError(endpoint: SshEndpoint, err: Error & { level?: string }, hostKeyError: unknown): unknown {
    if (hostKeyError !== undefined) return hostKeyError;
    const where = describeEndpoint(endpoint);
    switch (err.level) {
      case 'client-timeout':
        return new TimeoutError(`ssh connection to ${where} not established within ${this.settings.connectTimeoutMs} ms`, { cause: err });
      case 'client-authentication':
        return new HandyRepError(
          ErrorCodes.SSH_CONNECT,
          `ssh login to ${where} refused: the key ${this.settings.sshKeyPath || 'from the agent'} is not accepted for user ${endpoint.user}`,
          { cause: err },
        );
      case 'client-socket':
        return new HandyRepError(ErrorCodes.SSH_CONNECT, `cannot connect to ssh on ${where}: ${err.message}`, { cause: err });
      default:
        return new HandyRepError(ErrorCodes.SSH_CONNECT, `ssh connection to ${where} failed: ${err.message}`, { cause: err });
    }
  }
}
