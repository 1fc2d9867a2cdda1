import { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { HeldSessionOptions, HeldSqlSession, PgTls, Secrets, ServerView, SqlClient, SqlRow, SqlSession, SqlTarget } from '@handyrep/plugin-sdk';
import { BadArgumentError } from '@handyrep/plugin-sdk';
import pg from 'pg';
import { buildConninfo } from './libpq-conninfo.js';
import { SqlError, toSqlFailure } from './sql-error.js';
import type { SqlFailureContext } from './sql-error.js';

/** SQL settings, from `[handyrep]` (times already in milliseconds). */
export interface PgSqlSettings {
  /** `postgres_superuser`: the default user. */
  superuser: string;
  /** `handyrep_db`: the default database. */
  database: string;
  /** `connect_timeout`: TCP connect plus authentication. */
  connectTimeoutMs: number;
  /** `statement_timeout`: per statement, enforced by the server and, as a backstop, by the client. */
  statementTimeoutMs: number;
  /** `pg_sslmode` and its files; no TLS at all when absent. */
  tls?: PgTls;
  /** `sslmode`/`sslrootcert` for connection strings used by tools on database hosts (replication_sslmode). */
  remoteTls?: readonly (readonly [string, string])[];
}

/** What PgSqlClient is built from. */
export interface PgSqlClientOptions {
  /** The server registry, for hostname and port. */
  servers: ServerView;
  /** `[passwords]`. */
  secrets: Secrets;
  /** SQL settings. */
  settings: PgSqlSettings;
}

/** The password key used when a target names none. */
const DEFAULT_PASSWORD_KEY = 'superuser_password';

/**
 * Extra time the client-side timer gives the server's own statement_timeout:
 * the server's cancel leaves a usable session and a precise error, so it
 * should win whenever the server is alive; the client timer exists for the
 * server that is not (SIGSTOP, partition).
 */
const CLIENT_TIMEOUT_GRACE_MS = 500;

/** How long a polite `end()` may take before the socket is destroyed (a stopped server never answers it). */
const END_GRACE_MS = 1000;

/** How long a server that answered "no TLS" is spoken to in clear first (pg_sslmode prefer), sparing a second connection each time. */
const NO_TLS_MEMORY_MS = 60_000;

/** pg's words when a server answers an SSLRequest with 'N'. */
const NO_TLS_OFFERED = /does not support SSL connections/i;

/** The server's words when pg_hba.conf has only hostssl lines for us (pg_sslmode allow then retries with TLS). */
const NEEDS_TLS = /no encryption/i;

interface ResolvedTarget {
  server: string;
  host: string;
  port: number;
  user: string;
  database: string;
  password: string | undefined;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

function positiveMs(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (!Number.isFinite(ms) || ms <= 0) throw new BadArgumentError(`${name} must be a positive number of milliseconds, got ${ms}`);
  return Math.round(ms);
}

/**
 * The core's SqlClient over `pg`. Every call but `hold` opens its own
 * `pg.Client` and closes it: HandyRep talks to each server a few times per poll cycle, a fresh
 * connection is what a health check must prove anyway, and a pool would hand
 * out connections to a server whose state changed under them (failover,
 * restart). Every connect and statement is bounded by a time-out enforced on
 * the client side too, so a hung server cannot hang a call.
 */
export class PgSqlClient implements SqlClient {
  private readonly servers: ServerView;
  private readonly secrets: Secrets;
  private readonly settings: PgSqlSettings;
  private readonly tls: PgTls | undefined;
  /** host:port → until when a server that said it has no TLS is spoken to in clear first. */
  private readonly withoutTls = new Map<string, number>();

  constructor(options: PgSqlClientOptions) {
    this.servers = options.servers;
    this.secrets = options.secrets;
    this.settings = options.settings;
    this.tls = options.settings.tls;
  }

  /** Opens a connection, runs one statement with `$n` parameters, closes it. */
  query<Row extends SqlRow = SqlRow>(target: SqlTarget, text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.withSession(target, (session) => session.query<Row>(text, params));
  }

  /** Runs `work` on one connection, which is closed afterwards whatever happens. */
  async withSession<T>(target: SqlTarget, work: (session: SqlSession) => Promise<T>): Promise<T> {
    const resolved = this.resolve(target);
    const where = `server ${resolved.server} (${resolved.user}@${resolved.host}:${resolved.port}/${resolved.database})`;
    const failure = (phase: SqlFailureContext['phase'], timeoutMs: number) => (err: unknown) =>
      toSqlFailure(err, { where, phase, timeoutMs, password: resolved.password, ...(this.tls ? { tls: this.tls } : {}) });

    const { client, socket, errors } = await this.connect(resolved, target, failure);
    try {
      const session: SqlSession = {
        query: async <Row extends SqlRow = SqlRow>(text: string, params?: readonly unknown[]): Promise<Row[]> => {
          if (errors.broken !== undefined) {
            throw new SqlError(`${where}: the session is no longer usable: ${failure('query', resolved.statementTimeoutMs)(errors.broken).message}`, undefined);
          }
          try {
            const result = await client.query<Row>(text, params === undefined ? undefined : [...params]);
            return result.rows;
          } catch (err) {
            const mapped = failure('query', resolved.statementTimeoutMs)(err);
            if (/query read timeout/i.test(String((err as Error | undefined)?.message))) {
              // pg leaves the hung statement active; later statements would queue behind it.
              errors.broken ??= err;
              socket()?.destroy();
            }
            throw mapped;
          }
        },
      };
      return await work(session);
    } finally {
      await this.end(client, socket());
    }
  }

  /**
   * Opens a connection that stays open until `close()` or until it is lost
   * (the error is kept as `lost`), with TCP keepalive after
   * `keepAliveIdleMs` of idleness: for polls that cost one round trip. Not a
   * pool: its owner decides when to drop it, and a lost one is never reused.
   */
  async hold(target: SqlTarget, options: HeldSessionOptions = {}): Promise<HeldSqlSession> {
    const resolved = this.resolve(target);
    const where = `server ${resolved.server} (${resolved.user}@${resolved.host}:${resolved.port}/${resolved.database})`;
    const failure = (phase: SqlFailureContext['phase'], timeoutMs: number) => (err: unknown) =>
      toSqlFailure(err, { where, phase, timeoutMs, password: resolved.password, ...(this.tls ? { tls: this.tls } : {}) });
    const { client, socket, errors } = await this.connect(resolved, target, failure);
    socket()?.setKeepAlive(true, positiveMs(options.keepAliveIdleMs, 10_000, 'keepAliveIdleMs'));
    // The server closing an idle connection cleanly (FIN, no message) loses it too.
    client.on('end', () => {
      errors.broken ??= new Error('Connection terminated: the server closed the connection');
    });
    let lost: Error | undefined;
    let busy = 0;
    const lostNow = (): Error | undefined => (lost ??= errors.broken === undefined ? undefined : failure('query', resolved.statementTimeoutMs)(errors.broken));
    return {
      get lost() {
        return lostNow();
      },
      query: async <Row extends SqlRow = SqlRow>(text: string, params?: readonly unknown[]): Promise<Row[]> => {
        const gone = lostNow();
        if (gone !== undefined) throw gone;
        busy += 1;
        try {
          return (await client.query<Row>(text, params === undefined ? undefined : [...params])).rows;
        } catch (err) {
          const mapped = failure('query', resolved.statementTimeoutMs)(err);
          if (/query read timeout/i.test(String((err as Error | undefined)?.message))) {
            errors.broken ??= err;
            socket()?.destroy();
          }
          throw mapped;
        } finally {
          busy -= 1;
        }
      },
      close: async () => {
        const cut = busy > 0 || lostNow() !== undefined;
        lost ??= new SqlError(`${where}: the held session was closed`, undefined);
        // pg's end() waits for an answer a busy or lost connection never gives: cut the socket instead.
        if (cut) {
          socket()?.destroy();
        } else {
          await this.end(client, socket());
        }
      },
    };
  }

  /**
   * Opens a connection as pg_sslmode says: TLS first (prefer and stricter),
   * in clear again when a prefer server answers that it has no TLS, or in
   * clear first and with TLS again when an allow server insists. All attempts
   * share the one connect time-out.
   */
  private async connect(
    resolved: ResolvedTarget,
    target: SqlTarget,
    failure: (phase: SqlFailureContext['phase'], timeoutMs: number) => (err: unknown) => Error,
  ): Promise<{ client: pg.Client; socket: () => Socket | undefined; errors: { broken: unknown } }> {
    const tls = this.tls;
    const key = `${resolved.host}:${resolved.port}`;
    const knownWithoutTls = (this.withoutTls.get(key) ?? 0) > Date.now();
    let ssl: ConnectionOptions | false = tls?.tlsFirst && !(tls.plainAllowed && knownWithoutTls) ? tls.options(resolved.host) : false;
    const deadline = Date.now() + resolved.connectTimeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      const opened = this.open(resolved, target, ssl, Math.max(1, deadline - Date.now()));
      try {
        await opened.client.connect();
        return opened;
      } catch (err) {
        await this.end(opened.client, opened.socket());
        if (attempt === 1 && tls && ssl !== false && tls.plainAllowed && NO_TLS_OFFERED.test(String((err as Error | undefined)?.message))) {
          this.withoutTls.set(key, Date.now() + NO_TLS_MEMORY_MS);
          ssl = false;
          continue;
        }
        if (attempt === 1 && tls?.mode === 'allow' && ssl === false && NEEDS_TLS.test(String((err as Error | undefined)?.message))) {
          ssl = tls.options(resolved.host);
          continue;
        }
        throw failure('connect', resolved.connectTimeoutMs)(err);
      }
    }
  }

  private open(
    resolved: ResolvedTarget,
    target: SqlTarget,
    ssl: ConnectionOptions | false,
    connectTimeoutMs: number,
  ): { client: pg.Client; socket: () => Socket | undefined; errors: { broken: unknown } } {
    let socket: Socket | undefined;
    const config: pg.ClientConfig = {
      host: resolved.host,
      port: resolved.port,
      user: resolved.user,
      database: resolved.database,
      application_name: 'handyrep',
      connectionTimeoutMillis: connectTimeoutMs,
      ...(target.serverStatementTimeout === false ? {} : { statement_timeout: resolved.statementTimeoutMs }),
      query_timeout: resolved.statementTimeoutMs + CLIENT_TIMEOUT_GRACE_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Always explicit, so PGSSLMODE in the environment never decides instead of pg_sslmode.
      ssl,
      // Our own socket, so a connection stuck on a silent server can always be destroyed.
      stream: () => {
        socket = new Socket();
        return socket;
      },
    };
    if (resolved.password !== undefined) config.password = resolved.password;
    const client = new pg.Client(config);
    // The session is unusable after an asynchronous error; without a listener it would crash the process.
    const errors: { broken: unknown } = { broken: undefined };
    client.on('error', (err) => {
      errors.broken ??= err;
    });
    return { client, socket: () => socket, errors };
  }

  /**
   * A libpq connection string for `target` without any password (host, port,
   * user, dbname, connect_timeout, replication_sslmode and
   * replication_sslrootcert when set, then `extra` in order, overriding); for
   * primary_conninfo, pg_basebackup -d and the like, which take the password
   * from a .pgpass file.
   */
  conninfo(target: SqlTarget, extra?: Record<string, string>): string {
    const resolved = this.resolveWithoutSecret(target);
    const pairs = new Map<string, string>([
      ['host', resolved.host],
      ['port', String(resolved.port)],
      ['user', resolved.user],
      ['dbname', resolved.database],
      // libpq takes whole seconds, and 0 means "wait forever": round up.
      ['connect_timeout', String(Math.max(1, Math.ceil(resolved.connectTimeoutMs / 1000)))],
      ...(this.settings.remoteTls ?? []),
    ]);
    for (const [key, value] of Object.entries(extra ?? {})) pairs.set(key, value);
    return buildConninfo([...pairs]);
  }

  private resolve(target: SqlTarget): ResolvedTarget {
    const resolved = this.resolveWithoutSecret(target);
    // An explicit key must exist; the default one may be absent (trust, peer or .pgpass authentication).
    const password =
      target.passwordKey === undefined ? this.secrets.get(DEFAULT_PASSWORD_KEY) : this.secrets.require(target.passwordKey);
    return { ...resolved, password };
  }

  private resolveWithoutSecret(target: SqlTarget): Omit<ResolvedTarget, 'password'> {
    const definition = this.servers.get(target.server);
    const port = target.port ?? definition.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new BadArgumentError(`server ${target.server}: invalid PostgreSQL port ${String(port)}`);
    }
    return {
      server: target.server,
      host: definition.hostname,
      port,
      user: target.user ?? this.settings.superuser,
      database: target.database ?? this.settings.database,
      connectTimeoutMs: positiveMs(target.connectTimeoutMs, this.settings.connectTimeoutMs, 'connectTimeoutMs'),
      statementTimeoutMs: positiveMs(target.statementTimeoutMs, this.settings.statementTimeoutMs, 'statementTimeoutMs'),
    };
  }

  private async end(client: pg.Client, socket: Socket | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), END_GRACE_MS);
    });
    try {
      const ended = client.end().then(
        () => 'ended' as const,
        () => 'ended' as const,
      );
      if ((await Promise.race([ended, gaveUp])) === 'timeout') socket?.destroy();
    } catch {
      socket?.destroy();
    } finally {
      clearTimeout(timer);
    }
  }
}
