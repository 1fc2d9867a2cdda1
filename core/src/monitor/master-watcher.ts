import pg from 'pg';
import { describeTlsFailure, errorMessage } from '@handyrep/plugin-sdk';
import type { Logger, PgTls, Secrets, ServerView } from '@handyrep/plugin-sdk';

/** Connection settings of the watcher. */
export interface MasterWatcherSettings {
  /** `postgres_superuser`. */
  user: string;
  /** `handyrep_db`. */
  database: string;
  /** `connect_timeout` in ms. */
  connectTimeoutMs: number;
  /** `pg_sslmode` and its files, as every other connection uses them. */
  tls?: PgTls;
}

/**
 * Event-driven detection (ARCHITECTURE.md): holds one idle connection to the
 * master and reports the moment it drops. A SIGKILLed postmaster's backends
 * are terminated at once, so the 'error'/'end' event arrives within
 * milliseconds; a hung or partitioned master drops nothing, which the
 * periodic poll covers.
 */
export class MasterWatcher {
  private client: pg.Client | undefined;
  private watching: string | undefined;
  private closed = false;
  /** Settles the watch() whose connection is in progress (as not watching). */
  private abandonConnect: (() => void) | undefined;
  /** Hosts that answered that they have no TLS (pg_sslmode prefer): watched in clear from then on. */
  private readonly withoutTls = new Set<string>();
  /** The TLS problem last logged, so a refused watch is logged once, not every check. */
  private lastTlsProblem: string | undefined;

  constructor(
    private readonly servers: ServerView,
    private readonly secrets: Secrets,
    private readonly settings: MasterWatcherSettings,
    private readonly logger: Logger,
    private readonly onLoss: (master: string, lostAt: number, reason: string) => void,
  ) {}

  /** The master being watched, if a connection is held. */
  watched(): string | undefined {
    return this.watching;
  }

  /** Holds a connection to `master` (replacing one to another server); resolves once connected or failed. */
  async watch(master: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.watching === master && this.client) return true;
    const tls = this.settings.tls;
    const host = this.servers.get(master).hostname;
    const tlsFirst = tls?.tlsFirst === true && !(tls.plainAllowed && this.withoutTls.has(host));
    const outcome = await this.connect(master, tlsFirst);
    if (outcome === 'no-tls' && tls?.plainAllowed) {
      // pg_sslmode prefer and a server without TLS: in clear, as every other connection to it.
      this.withoutTls.add(host);
      return (await this.connect(master, false)) === 'connected';
    }
    return outcome === 'connected';
  }

  private async connect(master: string, useTls: boolean): Promise<'connected' | 'failed' | 'no-tls'> {
    this.release();
    const definition = this.servers.get(master);
    const client = new pg.Client({
      // Always explicit, so PGSSLMODE in the environment never decides instead of pg_sslmode.
      ssl: useTls && this.settings.tls ? this.settings.tls.options(definition.hostname) : false,
      host: definition.hostname,
      port: definition.port,
      user: this.settings.user,
      database: this.settings.database,
      password: this.secrets.get('superuser_password'),
      application_name: 'handyrep_watch',
      connectionTimeoutMillis: this.settings.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
    });
    let reported = false;
    const lost = (reason: string): void => {
      if (reported || this.client !== client) return;
      reported = true;
      const lostAt = Date.now();
      this.client = undefined;
      this.watching = undefined;
      client.end().catch(() => undefined);
      this.logger.warn(`connection to master ${master} lost: ${reason}`, { server: master, component: 'watcher' });
      this.onLoss(master, lostAt, reason);
    };
    client.on('error', (err) => lost(errorMessage(err)));
    client.on('end', () => lost('connection closed'));
    this.client = client;
    this.watching = master;
    // release() (from close(), or a watch of another master) may end this
    // client while it connects. pg then never settles connect(): its 'end'
    // handler skips the callback of a client that is ending and clears the
    // connect time-out. So release() settles this watch itself; otherwise a
    // Monitor.stop() during the watch of a new master waited forever.
    let abandon!: () => void;
    const abandoned = new Promise<'abandoned'>((resolve) => (abandon = () => resolve('abandoned')));
    this.abandonConnect = abandon;
    const connecting = client.connect().then(() => 'connected' as const);
    connecting.catch(() => undefined);
    try {
      const outcome = await Promise.race([connecting, abandoned]);
      if (outcome === 'connected' && this.client === client) {
        this.lastTlsProblem = undefined;
        return 'connected';
      }
      reported = true;
      return 'failed';
    } catch (err) {
      if (this.client === client) {
        this.client = undefined;
        this.watching = undefined;
      }
      reported = true;
      client.end().catch(() => undefined);
      if (useTls && /does not support SSL connections/i.test(errorMessage(err))) return 'no-tls';
      const tlsProblem = this.settings.tls === undefined ? undefined : describeTlsFailure(err, this.settings.tls);
      if (tlsProblem !== undefined && tlsProblem !== this.lastTlsProblem) {
        // Once per distinct problem: the monitor retries the watch every check.
        this.lastTlsProblem = tlsProblem;
        this.logger.warn(`refusing to watch master ${master}: ${tlsProblem}`, { server: master, component: 'watcher' });
      } else this.logger.debug(`cannot hold a connection to master ${master}: ${errorMessage(err)}`, { server: master, component: 'watcher' });
      return 'failed';
    } finally {
      if (this.abandonConnect === abandon) this.abandonConnect = undefined;
    }
  }

  /** Drops the held connection without reporting a loss. */
  release(): void {
    const client = this.client;
    const abandon = this.abandonConnect;
    this.client = undefined;
    this.watching = undefined;
    this.abandonConnect = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      client.end().catch(() => undefined);
    }
    abandon?.();
  }

  /** Stops watching for good. */
  close(): void {
    this.closed = true;
    this.release();
  }
}
