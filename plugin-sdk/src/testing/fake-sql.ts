import type { HeldSessionOptions, HeldSqlSession, SqlClient, SqlRow, SqlSession, SqlTarget } from '../capabilities/sql.js';

/** One statement the fake SQL client received. */
export interface RecordedQuery {
  /** Where it was sent. */
  target: SqlTarget;
  /** The statement. */
  text: string;
  /** Its parameters. */
  params: readonly unknown[];
}

/** Decides the rows of a statement; return undefined to fall through to the next responder. */
export type SqlResponder = (query: RecordedQuery) => SqlRow[] | Error | undefined;

/** A connection FakeSql.hold opened: its statements go through the fake's responders until it is lost or closed. */
export class FakeHeldSession implements HeldSqlSession {
  /** Why the connection is unusable (set by `lose` or `close`), or undefined. */
  lost: Error | undefined;
  /** True once `close()` was called. */
  closed = false;

  constructor(
    /** Where it was opened. */
    readonly target: SqlTarget,
    /** The options it was opened with. */
    readonly options: HeldSessionOptions,
    private readonly sql: FakeSql,
  ) {}

  async query<Row extends SqlRow = SqlRow>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    if (this.lost !== undefined) throw this.lost;
    return this.sql.query<Row>(this.target, text, params);
  }

  /** Ends the connection as the server or the network would: later statements fail with `error`. */
  lose(error: Error): void {
    this.lost ??= error;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lost ??= new Error('the held session was closed');
  }
}

/** A SqlClient that records statements and answers from responders (default: no rows). */
export class FakeSql implements SqlClient {
  /** Every statement, oldest first. */
  readonly queries: RecordedQuery[] = [];
  /** Every connection opened with `hold`, oldest first. */
  readonly held: FakeHeldSession[] = [];
  private readonly responders: SqlResponder[] = [];
  private holdFailure: ((target: SqlTarget) => Error | undefined) | undefined;

  /** Adds a responder; later ones are asked first. */
  respond(responder: SqlResponder): this {
    this.responders.unshift(responder);
    return this;
  }

  /** Answers statements matching `pattern` (optionally only on `server`) with `rows`. */
  when(pattern: RegExp, rows: SqlRow[] | Error, server?: string): this {
    return this.respond((query) =>
      pattern.test(query.text) && (server === undefined || query.target.server === server) ? rows : undefined,
    );
  }

  async query<Row extends SqlRow = SqlRow>(
    target: SqlTarget,
    text: string,
    params: readonly unknown[] = [],
  ): Promise<Row[]> {
    const recorded = { target, text, params };
    this.queries.push(recorded);
    for (const responder of this.responders) {
      const outcome = responder(recorded);
      if (outcome instanceof Error) throw outcome;
      if (outcome !== undefined) return outcome as Row[];
    }
    return [];
  }

  /** Makes `hold` fail with the error `decide` returns for a target (a refused or timed-out connect); undefined lets it open. */
  failHold(decide: (target: SqlTarget) => Error | undefined): this {
    this.holdFailure = decide;
    return this;
  }

  async hold(target: SqlTarget, options: HeldSessionOptions = {}): Promise<HeldSqlSession> {
    const error = this.holdFailure?.(target);
    if (error !== undefined) throw error;
    const session = new FakeHeldSession(target, options, this);
    this.held.push(session);
    return session;
  }

  async withSession<T>(target: SqlTarget, work: (session: SqlSession) => Promise<T>): Promise<T> {
    return work({ query: (text, params) => this.query(target, text, params) });
  }

  conninfo(target: SqlTarget, extra: Record<string, string> = {}): string {
    const parts: Record<string, string> = { host: target.server, ...extra };
    if (target.port !== undefined) parts['port'] = String(target.port);
    if (target.user !== undefined) parts['user'] = target.user;
    if (target.database !== undefined) parts['dbname'] = target.database;
    return Object.entries(parts)
      .map(([key, value]) => `${key}=${value}`)
      .join(' ');
  }
}
