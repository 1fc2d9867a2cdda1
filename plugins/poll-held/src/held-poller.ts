import { ErrorCodes, HandyRepError, pollResult, withTimeout } from '@handyrep/plugin-sdk';
import type { HeldSqlSession, PluginContext, PollObservation, PollPlugin, PollResult, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { classifyPollError } from './classify-error.js';
import type { PollHeldConfig } from './config.js';

/** The password key the core's SQL client uses when a target names none. */
const PASSWORD_KEY = 'superuser_password';

const QUERY = 'SELECT pg_is_in_recovery() AS in_recovery';

/**
 * Connection poolers: pgbouncer refuses unknown startup parameters
 * (statement_timeout included), and a connection held through it keeps a
 * server connection of its session pool, which its PAUSE (a switchover) waits
 * for. They get a connection per poll, closed after the round trip.
 */
const PROXY_ROLES: ReadonlySet<unknown> = new Set(['pgbouncer', 'proxy']);

/** One server's connection: being opened, or open. */
interface Held {
  /** What it was opened to (address, port, database): a changed server definition gets a new one. */
  key: string;
  /** The open in progress, or done. */
  session: Promise<HeldSqlSession>;
  /** The session once opened. */
  ready: HeldSqlSession | undefined;
  /** When a poll last used it (clock ms). */
  usedAt: number;
}

/** Belt and braces: the core already scrubs passwords from SQL errors, but details are shown to operators. */
function withoutPassword(text: string, password: string | undefined): string {
  return password === undefined || password === '' ? text : text.split(password).join('***');
}

/** A SqlClient that can hold connections, or a coded error saying this core cannot. */
function holdingClient(sql: SqlClient): Required<Pick<SqlClient, 'hold'>> {
  const hold = sql.hold?.bind(sql);
  if (hold === undefined) {
    throw new HandyRepError(ErrorCodes.NOT_SUPPORTED, 'poll_held needs a HandyRep core whose SQL client can hold connections (SqlClient.hold, @handyrep/plugin-sdk 1.1); use poll_connect or poll_isready with this one');
  }
  return { hold };
}

/**
 * `poll_held`: one connection per polled server, kept open between polls. A
 * poll is one round trip on it (`SELECT pg_is_in_recovery()`) bounded by
 * `timeout_ms`. Silence until the time-out is the poll's evidence (timeout):
 * the connection is dropped and the next poll opens a new one. A connection
 * that ended (the server closed it, a reset, keepalive gave up), before the
 * poll or during its round trip, only says its backend is gone: the poll opens
 * a new connection at once, within what is left of its time-out, and reports
 * that attempt as poll_connect would (refused when nothing listens any more),
 * with the loss in its details.
 */
export class HeldPoller implements PollPlugin {
  private readonly held = new Map<string, Held>();
  private readonly sql: Required<Pick<SqlClient, 'hold'>>;

  constructor(private readonly context: PluginContext<PollHeldConfig>) {
    this.sql = holdingClient(context.sql);
  }

  async poll(server: string): Promise<PollResult> {
    const started = performance.now();
    const definition = this.context.servers.get(server);
    const { timeout_ms: timeoutMs, database } = this.context.config;
    const deadline = started + timeoutMs;
    const target: SqlTarget = { server, connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs };
    if (database !== '') target.database = database;
    if (PROXY_ROLES.has(definition.role)) target.serverStatementTimeout = false;
    this.closeUnused(server);

    const key = `${definition.hostname}:${String(definition.port)}/${database}`;
    let held = this.held.get(server);
    let earlier = '';
    if (held !== undefined && (held.key !== key || held.ready?.lost !== undefined)) {
      if (held.key === key) earlier = `the held connection had been lost since the last poll (${held.ready?.lost?.message ?? ''}); `;
      this.drop(server, held);
      held = undefined;
    }
    const proxy = PROXY_ROLES.has(definition.role);
    const left = (): number => Math.max(1, deadline - performance.now());
    const noAnswer = `poll of ${server} got no answer within ${timeoutMs} ms (server hung or unreachable)`;
    let observation: PollObservation | undefined;
    for (let attempt = 0; observation === undefined; attempt += 1) {
      const reused = held !== undefined;
      const current = held ?? this.open(server, key, target);
      held = undefined;
      current.usedAt = this.context.clock.now();
      try {
        const session = await withTimeout(current.session, left(), noAnswer);
        const rows = await withTimeout(session.query<{ in_recovery: unknown }>(QUERY), left(), noAnswer);
        const value = rows[0]?.in_recovery;
        if (proxy) this.drop(server, current);
        const how = proxy ? 'on a new connection (a pooler: not held)' : reused ? 'on the held connection' : 'on a new held connection';
        observation =
          typeof value === 'boolean'
            ? { state: 'accepting', details: `${earlier}accepting connections ${how}, ${value ? 'in recovery (standby)' : 'not in recovery'}`, inRecovery: value }
            : { state: 'accepting', details: `${earlier}accepting connections ${how}, but pg_is_in_recovery() returned ${JSON.stringify(value)}` };
      } catch (err) {
        // Whatever went wrong, this connection is not trusted again: a late answer would belong to the wrong poll.
        this.drop(server, current);
        const verdict = classifyPollError(err);
        // The end of a held connection says its backend is gone, not what the server is now (killed, restarted, or only that
        // backend terminated): a new connection, within what is left of the time-out, answers that as a fresh poll would.
        // Silence is the evidence itself: there is no time left to learn more.
        if (reused && attempt === 0 && verdict.failure !== 'timeout' && deadline - performance.now() > 1) {
          earlier = `${earlier}the held connection failed (${verdict.details}); `;
          continue;
        }
        observation = { ...verdict, details: `${earlier}${reused ? 'the held connection failed' : 'opening a held connection failed'}: ${verdict.details}` };
      }
    }

    const details = withoutPassword(`${server} (${definition.hostname}:${String(definition.port)}): ${observation.details}`, this.context.secrets.get(PASSWORD_KEY));
    const result = pollResult({ ...observation, details }, performance.now() - started);
    if (result.result === 'FAIL') {
      this.context.logger.debug(`poll ${server}: ${result.state}`, { server, state: result.state, failure: result.failure, duration_ms: result.duration_ms, details });
    }
    return result;
  }

  /** Closes every held connection. */
  async close(): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(all.map((held) => held.session.then((session) => session.close(), () => undefined)));
  }

  private open(server: string, key: string, target: SqlTarget): Held {
    const held: Held = {
      key,
      session: this.sql.hold(target, { keepAliveIdleMs: this.context.config.keepalive_idle_ms }),
      ready: undefined,
      usedAt: this.context.clock.now(),
    };
    held.session.then(
      (session) => {
        held.ready = session;
      },
      () => undefined,
    );
    this.held.set(server, held);
    return held;
  }

  /** Forgets `held` and closes its connection, now or once it is open. */
  private drop(server: string, held: Held): void {
    if (this.held.get(server) === held) this.held.delete(server);
    held.session.then((session) => session.close(), () => undefined).catch(() => undefined);
  }

  /** Closes the connections of servers other than `polled` that no poll used for unused_close_seconds. */
  private closeUnused(polled: string): void {
    const oldest = this.context.clock.now() - this.context.config.unused_close_seconds * 1000;
    for (const [server, held] of this.held) if (server !== polled && held.usedAt < oldest) this.drop(server, held);
  }
}
