import { BadArgumentError, ErrorCodes, HandyRepError, TimeoutError, shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import type { PluginContext, SqlRow } from '@handyrep/plugin-sdk';
import type { MultiPgbouncerConfig } from './config.js';
import { assertPort } from './names.js';
import { PROBE_STATEMENT } from './proxy-console.js';
import type { ProxyConsole } from './proxy-console.js';
import { scrubSecrets, trimOutput } from './text.js';

/** Field separator of psql's unaligned output: a control character no value here contains. */
export const FIELD_SEPARATOR = '\x1f';

/** Exit status of coreutils `timeout` when it had to stop the command. */
const TIMEOUT_EXIT = 124;

/** Where and as whom psql connects, and what it runs. */
export interface PsqlInvocation {
  /** psql on the proxy host. */
  psql: string;
  /** A hostname or a Unix socket directory. */
  host: string;
  port: number;
  user: string;
  database: string;
  command: string;
  /** Whole seconds psql may take to connect (PGCONNECT_TIMEOUT). */
  connectTimeoutSeconds: number;
  /** Seconds the whole psql run may take before `timeout` stops it. */
  timeoutSeconds: number;
  /** True when the password comes on standard input. */
  withPassword: boolean;
}

/**
 * The script run on the proxy host. The password is never in the script or in
 * an argument (both show up in `ps`): it arrives on standard input and is
 * handed to psql through PGPASSWORD.
 */
export function psqlScript(invocation: PsqlInvocation): string {
  const argv = [
    'timeout', '-k', '1', String(invocation.timeoutSeconds),
    invocation.psql, '-X', '-q', '-w', '-A', '-F', FIELD_SEPARATOR, '-P', 'footer=off', '-v', 'ON_ERROR_STOP=1',
    '-h', invocation.host, '-p', String(invocation.port), '-U', invocation.user, '-d', invocation.database,
    '-c', invocation.command,
  ];
  return [
    invocation.withPassword ? 'IFS= read -r PGPASSWORD || exit 2' : 'unset PGPASSWORD',
    invocation.withPassword ? 'export PGPASSWORD' : ':',
    `PGCONNECT_TIMEOUT=${shellQuote(invocation.connectTimeoutSeconds)}`,
    'PGAPPNAME=handyrep',
    'export PGCONNECT_TIMEOUT PGAPPNAME',
    `exec ${shellJoin(argv)} </dev/null`,
  ].join('\n');
}

/** Rows of psql's unaligned output with a header line; no output means no rows. */
export function parsePsqlOutput(stdout: string): SqlRow[] {
  const lines = stdout.split('\n').filter((line) => line !== '');
  const header = lines.shift();
  if (header === undefined) return [];
  const columns = header.split(FIELD_SEPARATOR);
  return lines.map((line) => {
    const values = line.split(FIELD_SEPARATOR);
    return Object.fromEntries(columns.map((column, index) => [column, values[index] ?? '']));
  });
}

/**
 * The admin console and pooled databases through psql run over SSH on the
 * proxy host: works with any pgbouncer configuration (psql sends no
 * statement_timeout), and through the Unix socket when pgbouncer_socket_dir
 * is set (then pgbouncer's own OS user may log in as `pgbouncer` without a password).
 */
export class PsqlProxyConsole implements ProxyConsole {
  readonly method = 'psql' as const;

  constructor(private readonly context: PluginContext<MultiPgbouncerConfig>) {}

  async admin(proxy: string, command: string, timeoutMs: number): Promise<SqlRow[]> {
    const key = this.context.config.admin_password_key;
    const user = this.context.config.admin_user === '' ? this.superuser() : this.context.config.admin_user;
    return this.run(proxy, { user, database: 'pgbouncer', command, passwordKey: key === '' ? undefined : key }, timeoutMs);
  }

  async probe(proxy: string, database: string, timeoutMs: number): Promise<SqlRow[]> {
    return this.run(proxy, { user: this.superuser(), database, command: PROBE_STATEMENT, passwordKey: 'superuser_password', optional: true }, timeoutMs);
  }

  private superuser(): string {
    const name = this.context.settings.get('handyrep', 'postgres_superuser');
    if (typeof name !== 'string' || name === '') throw new BadArgumentError('[handyrep] postgres_superuser is not set');
    return name;
  }

  private async run(
    proxy: string,
    what: { user: string; database: string; command: string; passwordKey: string | undefined; optional?: boolean },
    timeoutMs: number,
  ): Promise<SqlRow[]> {
    const server = this.context.servers.get(proxy);
    const socketDir = String(server['pgbouncer_socket_dir'] ?? '');
    // An explicit admin password key must exist; the superuser's may be absent (trust or .pgpass on the proxy host).
    const password =
      what.passwordKey === undefined
        ? undefined
        : what.optional === true
          ? this.context.secrets.get(what.passwordKey)
          : this.context.secrets.require(what.passwordKey);
    const connectTimeoutSeconds = Math.max(1, Math.ceil(this.context.config.admin_timeout_seconds));
    const timeoutSeconds = Math.max(1, Math.ceil(timeoutMs / 1000)) + connectTimeoutSeconds;
    const script = psqlScript({
      psql: this.context.config.psql_path,
      host: socketDir === '' ? server.hostname : socketDir,
      port: assertPort(proxy, server.port),
      user: what.user,
      database: what.database,
      command: what.command,
      connectTimeoutSeconds,
      timeoutSeconds,
      withPassword: password !== undefined,
    });
    const options = { timeoutMs: timeoutSeconds * 1000 + Math.round(this.context.config.command_timeout_seconds * 1000) };
    const result = await this.context.shell.runScript(proxy, script, password === undefined ? options : { ...options, input: `${password}\n` });
    const where = `psql on ${proxy} (${what.user}@${what.database})`;
    if (result.exitCode === TIMEOUT_EXIT) throw new TimeoutError(`${where}: '${what.command}' got no answer within ${timeoutSeconds} s`);
    if (result.exitCode !== 0) {
      const stderr = scrubSecrets(trimOutput(result.stderr), this.context.secrets, [what.passwordKey]);
      throw new HandyRepError(ErrorCodes.SQL, `${where}: '${what.command}' failed (exit ${String(result.exitCode)}): ${stderr}`);
    }
    return parsePsqlOutput(result.stdout);
  }
}
