// SQL from tests: every connection has a connect timeout, a server-side
// statement_timeout and a client-side deadline that destroys the socket, so a
// hung (SIGSTOPped) or partitioned server makes a query fail, never hang.
import pg from 'pg';

export interface ConnTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface QueryOptions {
  /** Overall deadline for connect + query (default 5000 ms). */
  timeoutMs?: number;
  /** Connect deadline (default: min(timeoutMs, 3000)). */
  connectTimeoutMs?: number;
  database?: string;
  user?: string;
  password?: string;
  /** Use the simple query protocol (required for pgbouncer's admin console); params are not allowed then. */
  simple?: boolean;
}

export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
}

function destroy(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  try {
    stream?.destroy();
  } catch {
    /* already gone */
  }
}

export function newClient(target: ConnTarget, opts: QueryOptions = {}): pg.Client {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: opts.user ?? target.user,
    password: opts.password ?? target.password,
    database: opts.database ?? target.database,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? Math.min(timeoutMs, 3_000),
    statement_timeout: opts.simple ? undefined : timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
    application_name: 'handyrep-harness',
  } as pg.ClientConfig);
  client.on('error', () => {
    /* reported through the pending query; never crash the test process */
  });
  return client;
}

/** Connects, runs one statement, disconnects. Throws QueryTimeoutError at the deadline. */
export async function runQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  target: ConnTarget,
  sql: string,
  params: unknown[] = [],
  opts: QueryOptions = {},
): Promise<R[]> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const client = newClient(target, opts);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      destroy(client);
      reject(new QueryTimeoutError(`query on ${target.host}:${target.port} timed out after ${timeoutMs} ms: ${sql.slice(0, 80)}`));
    }, timeoutMs);
  });
  try {
    const work = (async () => {
      await client.connect();
      const res = opts.simple ? await client.query(sql) : await client.query(sql, params);
      return res.rows as R[];
    })();
    work.catch(() => {});
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    // end() waits for the server; a hung one would block it, so bound it too.
    await Promise.race([client.end().catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
    destroy(client);
  }
}
