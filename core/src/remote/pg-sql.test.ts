import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Secrets } from '@handyrep/plugin-sdk';
import { ErrorCodes, HandyRepError, TimeoutError, hasErrorCode } from '@handyrep/plugin-sdk';
import { staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import { PgSqlClient } from './pg-sql.js';
import type { PgSqlSettings } from './pg-sql.js';
import { runLocalCommand } from './run-local.js';
import { SqlError } from './sql-error.js';
import { withPartition } from './test-support/iptables.js';
import { pickLoopbackAddress, unusedPort } from './test-support/loopback.js';
import { startPostgres } from './test-support/postgres-fixture.js';
import type { PostgresFixture } from './test-support/postgres-fixture.js';
import { signalAll } from './test-support/processes.js';

const PG_PORT = 5432;
const noIptables = existsSync('/usr/sbin/iptables') ? false : 'needs iptables (npm run setup-system)';
const PASSWORD = "Pa55 w'rd\\\"x";
const skip =
  process.getuid?.() !== 0
    ? 'needs root (runs PostgreSQL as postgres, uses iptables)'
    : !existsSync('/usr/lib/postgresql/15/bin/postgres')
      ? 'needs PostgreSQL 15 in /usr/lib/postgresql/15/bin'
      : false;

function secrets(values: Record<string, string>): Secrets {
  return {
    get: (key) => values[key],
    require: (key) => {
      const value = values[key];
      if (value === undefined) throw new HandyRepError(ErrorCodes.SECRET_MISSING, `[passwords] ${key} is not set`);
      return value;
    },
  };
}

/** Waits up to 2 s until backend `pid` has left pg_stat_activity. */
async function waitGoneFromActivity(sql: PgSqlClient, pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const rows = await sql.query<{ n: string }>({ server: 'pg1' }, 'select count(*) as n from pg_stat_activity where pid = $1', [pid]);
    if (rows[0]?.n === '0') return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

async function elapsedOf(work: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await work();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('PgSqlClient against a real PostgreSQL 15', { skip }, () => {
  let dir: string;
  let pg: PostgresFixture;

  function client(overrides: Partial<PgSqlSettings> = {}, passwords: Record<string, string> = { superuser_password: PASSWORD }): PgSqlClient {
    return new PgSqlClient({
      servers: staticServerView([testServer({ name: 'pg1', hostname: pg.address, port: pg.port, role: 'master' })]),
      secrets: secrets(passwords),
      settings: { superuser: 'postgres', database: 'postgres', connectTimeoutMs: 2000, statementTimeoutMs: 5000, ...overrides },
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-pg-'));
    const address = await pickLoopbackAddress([PG_PORT]);
    pg = await startPostgres(dir, address, PG_PORT, PASSWORD);
  });

  after(async () => {
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a query with parameters, as application handyrep with the statement timeout set', async () => {
    const rows = await client().query<{ a: string; b: number; app: string; timeout: string }>(
      pg1(),
      "select $1::text as a, $2::int + 1 as b, current_setting('application_name') as app, current_setting('statement_timeout') as timeout",
      ["x'; drop table y; --", 41],
    );
    assert.deepEqual(rows, [{ a: "x'; drop table y; --", b: 42, app: 'handyrep', timeout: '5s' }]);
  });

  it('holds one connection for a whole session and closes it afterwards', async () => {
    const sql = client();
    const pids = await sql.withSession(pg1(), async (session) => {
      const [first] = await session.query<{ pid: number }>('select pg_backend_pid() as pid');
      await session.query('create temp table t (x int)');
      await session.query('insert into t values ($1)', [7]);
      const [second] = await session.query<{ pid: number; x: number }>('select pg_backend_pid() as pid, x from t');
      assert.equal(second?.x, 7);
      return [first?.pid, second?.pid];
    });
    assert.equal(pids[0], pids[1]);
    const left = await sql.query<{ n: string }>(pg1(), 'select count(*) as n from pg_stat_activity where pid = $1', [pids[0]]);
    assert.equal(left[0]?.n, '0');
  });

  it('hold keeps one connection across calls until closed, and close() is idempotent', async () => {
    const sql = client();
    const held = await sql.hold(pg1(), { keepAliveIdleMs: 1000 });
    const [first] = await held.query<{ pid: number }>('select pg_backend_pid() as pid');
    const [second] = await held.query<{ pid: number }>('select pg_backend_pid() as pid');
    assert.equal(first?.pid, second?.pid);
    assert.equal(held.lost === undefined, true);
    await held.close();
    await held.close();
    assert.match(String(held.lost?.message), /the held session was closed/);
    await assert.rejects(held.query('select 1'), /the held session was closed/);
    assert.ok(await waitGoneFromActivity(sql, first?.pid ?? 0), 'the backend ended');
  });

  it('a held connection the server ends is lost with the server\'s SQLSTATE, without a query', async () => {
    const sql = client();
    const held = await sql.hold(pg1());
    const [row] = await held.query<{ pid: number }>('select pg_backend_pid() as pid');
    await sql.query(pg1(), 'select pg_terminate_backend($1)', [row?.pid]);
    const deadline = Date.now() + 2000;
    while (held.lost === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(held.lost instanceof SqlError, String(held.lost));
    assert.equal((held.lost as SqlError).sqlState, '57P01');
    await assert.rejects(held.query('select 1'), (err: unknown) => err === held.lost);
    await held.close();
  });

  it('closes the session when the work throws, passing the error through', async () => {
    const sql = client();
    let pid = 0;
    await assert.rejects(
      sql.withSession(pg1(), async (session) => {
        pid = (await session.query<{ pid: number }>('select pg_backend_pid() as pid'))[0]?.pid ?? 0;
        throw new Error('work failed');
      }),
      /work failed/,
    );
    const left = await sql.query<{ n: string }>(pg1(), 'select count(*) as n from pg_stat_activity where pid = $1', [pid]);
    assert.equal(left[0]?.n, '0');
  });

  it('reports SQL errors with SQLSTATE and the target', async () => {
    await assert.rejects(client().query(pg1(), 'select * from no_such_table'), (err: unknown) => {
      assert.ok(err instanceof SqlError);
      assert.equal(err.code, ErrorCodes.SQL);
      assert.equal(err.sqlState, '42P01');
      assert.match(err.message, /server pg1 .*no_such_table.*42P01/);
      return true;
    });
  });

  it('a wrong password fails with SQL, without the password anywhere in the error', async () => {
    const wrong = 'WrongSecret-9f8e7d';
    await assert.rejects(client({}, { superuser_password: wrong }).query(pg1(), 'select 1'), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.SQL), String(err));
      assert.equal((err as SqlError).sqlState, '28P01');
      assert.ok(!JSON.stringify(err, Object.getOwnPropertyNames(err)).includes(wrong));
      assert.ok(!String((err as Error).stack).includes(wrong));
      return true;
    });
  });

  it('an explicit password key must exist; the default one may be absent', async () => {
    await assert.rejects(client().query({ ...pg1(), passwordKey: 'replication_password' }, 'select 1'), (err: unknown) =>
      hasErrorCode(err, ErrorCodes.SECRET_MISSING),
    );
    // No password configured: scram needs one, so the server refuses, as SQL.
    await assert.rejects(client({}, {}).query(pg1(), 'select 1'), (err: unknown) => hasErrorCode(err, ErrorCodes.SQL));
  });

  it('the server-side statement_timeout becomes a TimeoutError and leaves the session usable', async () => {
    await client().withSession({ ...pg1(), statementTimeoutMs: 300 }, async (session) => {
      const { ms, error } = await elapsedOf(() => session.query('select pg_sleep(5)'));
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, /statement_timeout \(300 ms\)/);
      assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
      assert.deepEqual(await session.query('select 1 as one'), [{ one: 1 }]);
    });
  });

  it('a SIGSTOPped server: a held session fails within the timeout, a new connection within connect_timeout', async () => {
    const sql = client({ connectTimeoutMs: 800, statementTimeoutMs: 600 });
    let pids: number[] = [];
    let sessionResult: { ms: number; error: unknown } | undefined;
    const sessionTotal = await elapsedOf(() =>
      sql.withSession(pg1(), async (session) => {
        await session.query('select 1');
        // Listed now, so the backend serving this session is among them.
        pids = await pg.allPids();
        signalAll(pids, 'SIGSTOP');
        sessionResult = await elapsedOf(() => session.query('select 1'));
      }),
    );
    try {
      const connectResult = await elapsedOf(() => sql.query(pg1(), 'select 1'));
      assert.ok(sessionResult?.error instanceof TimeoutError, String(sessionResult?.error));
      assert.match(sessionResult.error.message, /no answer within 600 ms/);
      // Client-side timer = statement_timeout + 500 ms grace; withSession's end() gives up after 1 s more.
      assert.ok(sessionResult.ms >= 1000 && sessionResult.ms < 2000, `statement took ${sessionResult.ms.toFixed(0)} ms`);
      assert.ok(sessionTotal.ms < 3500, `session with close took ${sessionTotal.ms.toFixed(0)} ms`);
      assert.ok(connectResult.error instanceof TimeoutError, String(connectResult.error));
      assert.match(connectResult.error.message, /connecting to server pg1 .*timed out after 800 ms/);
      assert.ok(connectResult.ms >= 790 && connectResult.ms < 1800, `connect took ${connectResult.ms.toFixed(0)} ms`);
      console.log(`# SIGSTOP: statement ${sessionResult.ms.toFixed(0)} ms, session+close ${sessionTotal.ms.toFixed(0)} ms, connect ${connectResult.ms.toFixed(0)} ms`);
    } finally {
      signalAll(pids, 'SIGCONT');
    }
    assert.deepEqual(await client().query(pg1(), 'select 1 as one'), [{ one: 1 }]);
  });

  it('nothing listening: fails fast as SQL (connection refused)', async () => {
    const port = await unusedPort(pg.address);
    const { ms, error } = await elapsedOf(() => client().query({ ...pg1(), port }, 'select 1'));
    assert.ok(hasErrorCode(error, ErrorCodes.SQL), String(error));
    assert.match((error as Error).message, /cannot connect to server pg1 .*ECONNREFUSED/);
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  });

  it('a partitioned address: connect times out within connect_timeout', { skip: noIptables }, async () => {
    const { ms, error } = await withPartition(pg.address, pg.port, () =>
      elapsedOf(() => client({ connectTimeoutMs: 700 }).query(pg1(), 'select 1')),
    );
    assert.ok(error instanceof TimeoutError, String(error));
    assert.ok(ms >= 690 && ms < 1600, `took ${ms.toFixed(0)} ms`);
    console.log(`# partition: connect timeout after ${ms.toFixed(0)} ms (connect_timeout 700)`);
  });

  it('conninfo is accepted by libpq and reaches the server as written', async () => {
    const info = client().conninfo(pg1(), { application_name: "it's a \\ test" });
    assert.ok(!info.includes(PASSWORD));
    // The password travels the way tools get it in production: outside the connection string.
    process.env['PGPASSWORD'] = PASSWORD;
    let result;
    try {
      result = await runLocalCommand(['psql', '-X', '-A', '-t', '-w', '-d', info, '-c', "select current_setting('application_name')"], {
        timeoutMs: 5000,
      });
    } finally {
      delete process.env['PGPASSWORD'];
    }
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout.trim(), "it's a \\ test");
  });

  function pg1() {
    return { server: 'pg1' };
  }
});
