import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { CommandOptions, CommandResult, Logger, RemoteShell, ServerView } from '@handyrep/plugin-sdk';
import { BadArgumentError, ErrorCodes, HandyRepError, TimeoutError, shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import { expandHome } from './expand-home.js';
import { HostKeyChecker } from './host-key-checker.js';
import type { HostKeyPolicy } from './host-key-checker.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from './output-buffer.js';
import { runLocalCommand } from './run-local.js';
import { ChannelOpenError, describeEndpoint } from './ssh-connection.js';
import type { SshEndpoint } from './ssh-connection.js';
import { SshConnectionPool } from './ssh-connection-pool.js';

/** SSH settings, from `[handyrep]` (times already in milliseconds). */
export interface SshShellSettings {
  /** `ssh_key`: private key file; empty uses the agent at `SSH_AUTH_SOCK`. A leading `~/` is expanded. */
  sshKeyPath: string;
  /** `ssh_known_hosts`; a leading `~/` is expanded. */
  knownHostsPath: string;
  /** `ssh_host_key_policy`. */
  hostKeyPolicy: HostKeyPolicy;
  /** `ssh_timeout`: connect time-out and default per-command time-out. */
  timeoutMs: number;
  /** Output cap per command, stdout and stderr together (default 16 MiB). */
  maxOutputBytes?: number;
  /** Keepalive interval on idle connections (default 5000 ms). */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before a connection is declared dead (default 2). */
  keepaliveCountMax?: number;
  /** Channels open at once per connection (default 8; OpenSSH's MaxSessions defaults to 10). */
  maxChannelsPerConnection?: number;
}

/** What SshShell is built from. */
export interface SshShellOptions {
  /** The server registry, for hostname, ssh_port and ssh_user. */
  servers: ServerView;
  /** SSH settings. */
  settings: SshShellSettings;
  /** Where connection events and host-key decisions are logged (never command text or secrets). */
  logger: Logger;
}

/** The first word of a command, to name it in errors and logs without printing arguments that may be secret. */
function commandLabel(text: string): string {
  const word = text.trimStart().split(/[\s;&|()<>]/, 1)[0] ?? '';
  const label = word === '' ? 'script' : word;
  return label.length > 60 ? `${label.slice(0, 57)}...` : label;
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) throw new BadArgumentError(`${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}

/**
 * The core's RemoteShell: commands over SSH (ssh2), one reused connection per
 * host, a time-out on every connect and command, host keys checked against
 * known_hosts. `runScript` sends the script as given, so callers must quote
 * every interpolated value with `shellQuote`; `run` quotes every argv element
 * itself. Remote commands are interpreted by the login user's shell, which must
 * be POSIX (sh, bash, dash).
 */
export class SshShell implements RemoteShell {
  private readonly servers: ServerView;
  private readonly settings: Required<SshShellSettings>;
  private readonly logger: Logger;
  private readonly pool: SshConnectionPool;

  constructor(options: SshShellOptions) {
    const given = options.settings;
    this.servers = options.servers;
    this.logger = options.logger;
    this.settings = {
      sshKeyPath: given.sshKeyPath === '' ? '' : expandHome(given.sshKeyPath),
      knownHostsPath: expandHome(given.knownHostsPath),
      hostKeyPolicy: given.hostKeyPolicy,
      timeoutMs: positive(given.timeoutMs, 'ssh timeout') ?? 10_000,
      maxOutputBytes: given.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      keepaliveIntervalMs: given.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: given.keepaliveCountMax ?? 2,
      maxChannelsPerConnection: given.maxChannelsPerConnection ?? 8,
    };
    const hostKeys = new HostKeyChecker(this.settings.knownHostsPath, this.settings.hostKeyPolicy, this.logger);
    this.pool = new SshConnectionPool(
      {
        sshKeyPath: this.settings.sshKeyPath,
        connectTimeoutMs: this.settings.timeoutMs,
        keepaliveIntervalMs: this.settings.keepaliveIntervalMs,
        keepaliveCountMax: this.settings.keepaliveCountMax,
        maxChannels: this.settings.maxChannelsPerConnection,
        // Long enough for a loaded host to acknowledge a channel close, short enough not to stall the next command.
        probeGraceMs: Math.min(2000, this.settings.timeoutMs),
        maxOutputBytes: this.settings.maxOutputBytes,
      },
      hostKeys,
      this.logger,
    );
  }

  /** Runs `argv` on `server`, every element shell-quoted. */
  run(server: string, argv: readonly string[], options?: CommandOptions): Promise<CommandResult> {
    let command: string;
    try {
      command = shellJoin(argv);
    } catch (err) {
      return Promise.reject(new BadArgumentError(`cannot run on ${server}: ${(err as Error).message}`));
    }
    return this.execute(server, command, commandLabel(argv[0] ?? ''), options);
  }

  /** Runs `script` on `server` exactly as given; interpolated values must already be quoted with `shellQuote`. */
  runScript(server: string, script: string, options?: CommandOptions): Promise<CommandResult> {
    if (script.trim() === '') return Promise.reject(new BadArgumentError(`cannot run an empty script on ${server}`));
    return this.execute(server, script, commandLabel(script), options);
  }

  /**
   * Writes `content` to `path` on `server` atomically: the content goes over
   * stdin into a temp file beside the target (same file system, so the rename
   * is atomic), which gets its mode and is then renamed over the target. The
   * default mode is 0600 because such files often hold credentials.
   */
  async writeFile(server: string, path: string, content: string, options?: CommandOptions & { mode?: number }): Promise<void> {
    const mode = options?.mode ?? 0o600;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new BadArgumentError(`invalid file mode ${mode} for ${path}`);
    if (path === '' || path.endsWith('/')) throw new BadArgumentError(`writeFile needs a file path, got '${path}'`);
    const temp = posix.join(posix.dirname(path), `.${posix.basename(path)}.handyrep-${randomBytes(6).toString('hex')}.tmp`);
    const script = [
      'umask 077',
      `tmp=${shellQuote(temp)}`,
      `cat > "$tmp" && chmod ${mode.toString(8).padStart(4, '0')} "$tmp" && mv -f "$tmp" ${shellQuote(path)}`,
      'status=$?',
      'if [ "$status" -ne 0 ]; then rm -f "$tmp"; fi',
      'exit "$status"',
    ].join('\n');
    const result = await this.execute(server, script, 'writeFile', { ...options, input: content });
    if (result.exitCode !== 0) {
      throw new HandyRepError(
        ErrorCodes.REMOTE_COMMAND,
        `writing ${path} on server ${server} failed (exit ${result.exitCode ?? 'by signal'}): ${result.stderr.trim()}`,
      );
    }
  }

  /** Runs `argv` on this host without a shell; the whole process group is killed on time-out. */
  runLocal(argv: readonly string[], options?: CommandOptions): Promise<CommandResult> {
    let timeoutMs: number;
    try {
      timeoutMs = positive(options?.timeoutMs, 'timeoutMs') ?? this.settings.timeoutMs;
    } catch (err) {
      return Promise.reject(err);
    }
    const local: Parameters<typeof runLocalCommand>[1] = { timeoutMs, maxOutputBytes: this.settings.maxOutputBytes };
    if (options?.input !== undefined) local.input = options.input;
    return runLocalCommand(argv, local);
  }

  /** Ends every SSH connection; commands after this open new ones. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Open or opening connections, for tests and metrics. */
  get connectionCount(): number {
    return this.pool.size;
  }

  private endpoint(server: string): SshEndpoint {
    const definition = this.servers.get(server);
    const port = definition['ssh_port'] ?? 22;
    const user = definition['ssh_user'] ?? 'postgres';
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new BadArgumentError(`server ${server} has an invalid ssh_port: ${String(port)}`);
    }
    if (typeof user !== 'string' || user === '') throw new BadArgumentError(`server ${server} has an invalid ssh_user`);
    return { server, host: definition.hostname, port, user };
  }

  private async execute(server: string, command: string, label: string, options?: CommandOptions): Promise<CommandResult> {
    const started = performance.now();
    const timeoutMs = positive(options?.timeoutMs, 'timeoutMs') ?? this.settings.timeoutMs;
    const endpoint = this.endpoint(server);
    let phase: 'connecting' | 'running' = 'connecting';
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const what =
        phase === 'connecting'
          ? `no ssh connection to ${describeEndpoint(endpoint)} within ${timeoutMs} ms (for '${label}')`
          : `'${label}' on ${describeEndpoint(endpoint)} timed out after ${timeoutMs} ms`;
      controller.abort(new TimeoutError(what));
    }, timeoutMs);
    try {
      for (let attempt = 1; ; attempt++) {
        phase = 'connecting';
        const connection = await this.pool.acquire(endpoint, controller.signal);
        const reused = connection.commandsStarted > 0;
        phase = 'running';
        try {
          const execOptions: { signal: AbortSignal; input?: string } = { signal: controller.signal };
          if (options?.input !== undefined) execOptions.input = options.input;
          const result = await connection.exec(command, label, execOptions);
          const durationMs = Math.round(performance.now() - started);
          this.logger.debug('ssh command finished', { server, command: label, exitCode: result.exitCode, durationMs });
          return { ...result, durationMs };
        } catch (err) {
          // Nothing ran: a reused connection that turned out closed gets one retry on a fresh one.
          if (err instanceof ChannelOpenError && reused && attempt === 1 && !controller.signal.aborted) continue;
          throw err;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
