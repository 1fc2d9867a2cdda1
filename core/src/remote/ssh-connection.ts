import type { Socket } from 'node:net';
import type { Logger } from '@handyrep/plugin-sdk';
import { ErrorCodes, HandyRepError, errorMessage } from '@handyrep/plugin-sdk';
import type { Client, ClientChannel } from 'ssh2';
import { OutputBuffer } from './output-buffer.js';
import { signalChannel } from './ssh-signal.js';

/** Where one pooled SSH connection goes: a host, port and login user, plus the server name for messages. */
export interface SshEndpoint {
  /** Registry name of the server (for messages and logs). */
  server: string;
  /** Host name or address. */
  host: string;
  /** SSH port. */
  port: number;
  /** Login user. */
  user: string;
}

/** Tuning of one connection. */
export interface SshConnectionLimits {
  /** Channels open at once; OpenSSH refuses more than `MaxSessions` (default 10). */
  maxChannels: number;
  /** After a timed-out command, how long the server has to acknowledge the channel close before the connection is dropped. */
  probeGraceMs: number;
  /** Output cap per command. */
  maxOutputBytes: number;
}

/** What a command on the remote side returned. */
export interface ChannelResult {
  /** Exit status, or null when the command was ended by a signal. */
  exitCode: number | null;
  /** Standard output (UTF-8). */
  stdout: string;
  /** Standard error (UTF-8). */
  stderr: string;
}

/**
 * The command was not started because no channel could be opened on this
 * connection; running it again on a fresh connection cannot run it twice.
 */
export class ChannelOpenError extends HandyRepError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.SSH_CONNECT, message, options);
  }
}

/** Renders an endpoint as `user@host:port` for messages. */
export function describeEndpoint(endpoint: SshEndpoint): string {
  return `server ${endpoint.server} (${endpoint.user}@${endpoint.host}:${endpoint.port})`;
}

/**
 * One authenticated SSH connection shared by all commands to its endpoint:
 * limits concurrent channels, runs commands with abort-on-timeout, and drops
 * itself when the peer stops answering.
 */
export class SshConnection {
  /** `connecting` until authenticated; `closed` once it may no longer be used. */
  state: 'connecting' | 'ready' | 'closed' = 'connecting';
  /** Resolves when authenticated; rejects with the connect error (always handled, so no unhandled rejection). */
  ready: Promise<void> = Promise.resolve();
  /** Commands started on this connection, to tell a fresh connection from a reused one. */
  commandsStarted = 0;
  /** The TCP socket under the SSH session, once connecting; ours so it can always be destroyed. */
  socket: Socket | undefined;
  /** Set while the connection's health is in doubt after a timed-out command. */
  probing: Promise<void> | undefined;

  private active = 0;
  private retired = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    /** The endpoint this connection serves. */
    readonly endpoint: SshEndpoint,
    /** The ssh2 client. */
    readonly client: Client,
    private readonly limits: SshConnectionLimits,
    private readonly logger: Logger,
    /** Called once when the connection must no longer be handed out. */
    private readonly onLeavePool: (connection: SshConnection) => void,
  ) {}

  /** Marks the connection unusable and tears the socket down; idempotent. */
  discard(reason: string): void {
    if (this.state === 'closed') return;
    this.logger.debug('ssh connection dropped', { server: this.endpoint.server, reason });
    this.markClosed();
    // No polite goodbye: the peer is presumed dead, and a half-closed socket to it would linger for minutes.
    this.socket?.destroy();
  }

  /** Ends the session politely; the socket is destroyed if the peer has not closed it within `graceMs`. */
  end(graceMs: number): Promise<void> {
    this.markClosed();
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.end();
    });
  }

  /**
   * Takes the connection out of the pool without disturbing commands still
   * running on it; it is ended once they finish (or dropped by its probe).
   */
  retire(): void {
    if (this.state === 'closed' || this.retired) return;
    this.retired = true;
    this.onLeavePool(this);
    this.endIfIdle();
  }

  /** Records that the socket closed (or is being closed) and releases anyone waiting for a channel. */
  markClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.onLeavePool(this);
    // Waiters wake up, find the connection closed and go to a fresh one.
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Runs `command` on a new channel; rejects with `signal.reason` when aborted (time-out). */
  async exec(
    command: string,
    label: string,
    options: { signal: AbortSignal; input?: string },
  ): Promise<ChannelResult> {
    const release = await this.takeChannelSlot(options.signal);
    if (this.state !== 'ready') {
      release();
      throw new ChannelOpenError(`ssh connection to ${describeEndpoint(this.endpoint)} closed before '${label}' could start`);
    }
    this.commandsStarted++;
    return new Promise<ChannelResult>((resolve, reject) => {
      const { signal } = options;
      const output = new OutputBuffer(this.limits.maxOutputBytes);
      let channel: ClientChannel | undefined;
      let settled = false;
      let exitCode: number | null = null;
      let exitSeen = false;

      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (!settle()) return;
        if (channel) {
          const abandoned = channel;
          signalChannel(abandoned, 'KILL');
          abandoned.close();
          this.startProbe(new Promise<void>((done) => abandoned.once('close', () => done())));
        } else {
          // The channel open is still unanswered; its answer (or silence) is the probe.
          this.startProbe(channelAnswered);
        }
        reject(signal.reason);
      };

      let answerChannel: () => void = () => undefined;
      const channelAnswered = new Promise<void>((done) => {
        answerChannel = done;
      });

      if (signal.aborted) {
        settled = true;
        release();
        reject(signal.reason);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });

      try {
        this.client.exec(command, (err, opened) => {
          answerChannel();
          if (err) {
            release();
            if (!settle()) return;
            const refused = /open failure|not connected/i.test(err.message);
            const message = `ssh channel for '${label}' on ${describeEndpoint(this.endpoint)} failed: ${err.message}`;
            reject(refused ? new ChannelOpenError(message, { cause: err }) : new HandyRepError(ErrorCodes.SSH_CONNECT, message, { cause: err }));
            return;
          }
          opened.once('close', () => release());
          if (settled) {
            // Timed out before the channel opened: nothing may run any more.
            signalChannel(opened, 'KILL');
            opened.close();
            return;
          }
          channel = opened;
          const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer): void => {
            if (output.add(stream, chunk) || !settle()) return;
            signalChannel(opened, 'KILL');
            opened.close();
            reject(
              new HandyRepError(
                ErrorCodes.REMOTE_COMMAND,
                `'${label}' on ${describeEndpoint(this.endpoint)} printed more than ${output.limit} bytes; killed`,
              ),
            );
          };
          opened.on('data', collect('stdout'));
          opened.stderr.on('data', collect('stderr'));
          opened.on('error', (channelError: unknown) => {
            this.logger.debug('ssh channel error', { server: this.endpoint.server, command: label, error: errorMessage(channelError) });
          });
          opened.on('exit', (code: number | null) => {
            exitSeen = true;
            exitCode = typeof code === 'number' ? code : null;
          });
          opened.on('close', () => {
            if (!settle()) return;
            if (!exitSeen && this.state === 'closed') {
              reject(
                new HandyRepError(
                  ErrorCodes.SSH_CONNECT,
                  `ssh connection to ${describeEndpoint(this.endpoint)} was lost while '${label}' was running; its outcome is unknown`,
                ),
              );
              return;
            }
            resolve({ exitCode, stdout: output.stdoutText(), stderr: output.stderrText() });
          });
          // stdin is always ended so a command that reads it sees EOF instead of waiting forever.
          if (options.input === undefined) opened.end();
          else opened.end(options.input);
        });
      } catch (err) {
        // ssh2 throws synchronously when the socket is already gone.
        answerChannel();
        release();
        if (!settle()) return;
        this.markClosed();
        reject(new ChannelOpenError(`ssh connection to ${describeEndpoint(this.endpoint)} is closed: ${errorMessage(err)}`, { cause: err }));
      }
    });
  }

  /** Waits for a free channel slot; the returned function frees it (safe to call twice). */
  private takeChannelSlot(signal: AbortSignal): Promise<() => void> {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.active--;
      const next = this.waiters.shift();
      if (next) next();
      else this.endIfIdle();
    };
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.active < this.limits.maxChannels || this.state === 'closed') {
      this.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve(release);
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(wake);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason);
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private endIfIdle(): void {
    if (!this.retired || this.active > 0 || this.state === 'closed') return;
    void this.end(1000);
  }

  /**
   * A command timed out: if the server does not even acknowledge closing its
   * channel within the grace period, the connection is dead (hung peer,
   * partition) and is dropped, so the next command reconnects instead of
   * hanging on it too.
   */
  private startProbe(answer: Promise<void>): void {
    const probe = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.discard(`no answer within ${this.limits.probeGraceMs} ms after a command timed out`);
        resolve();
      }, this.limits.probeGraceMs);
      void answer.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.probing = probe;
    void probe.then(() => {
      if (this.probing === probe) this.probing = undefined;
    });
  }
}
