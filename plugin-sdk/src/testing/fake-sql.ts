import type { SqlClient, SqlRow, SqlSession, SqlTarget } from '../capabilities/sql.js';

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

/** A SqlClient that records statements and answers from responders (default: no rows). */
export class FakeSql implements SqlClient {
  /** Every statement, oldest first. */
  readonly queries: RecordedQuery[] = [];
  private readonly responders: SqlResponder[] = [];

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
