import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, pgTls } from '@handyrep/plugin-sdk';
import type { Secrets } from '@handyrep/plugin-sdk';
import { staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import { PgSqlClient } from './pg-sql.js';
import { pickLoopbackAddress } from './test-support/loopback.js';
import { startPostgres } from './test-support/postgres-fixture.js';
import type { PostgresFixture } from './test-support/postgres-fixture.js';

const PASSWORD = 'tls-modes-pw';
const skip =
  process.getuid?.() !== 0
    ? 'needs root (runs PostgreSQL as postgres)'
    : !existsSync('/usr/lib/postgresql/15/bin/postgres')
      ? 'needs PostgreSQL 15 in /usr/lib/postgresql/15/bin'
      : false;

const secrets: Secrets = {
  get: (key) => (key === 'superuser_password' ? PASSWORD : undefined),
  require: (key) => {
    if (key !== 'superuser_password') throw new HandyRepError(ErrorCodes.SECRET_MISSING, `[passwords] ${key} is not set`);
    return PASSWORD;
  },
};

// A server without TLS (ssl = off): what each pg_sslmode does with it.
describe('pg_sslmode against a PostgreSQL without TLS', { skip }, () => {
  let dir: string;
  let server: PostgresFixture;

  const client = (mode: Parameters<typeof pgTls>[0]): PgSqlClient =>
    new PgSqlClient({
      servers: staticServerView([testServer({ name: 'pg1', hostname: server.address, port: server.port, role: 'master' })]),
      secrets,
      settings: { superuser: 'postgres', database: 'postgres', connectTimeoutMs: 3000, statementTimeoutMs: 5000, tls: pgTls(mode) },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-tls-modes-'));
    server = await startPostgres(dir, await pickLoopbackAddress([5432]), 5432, PASSWORD);
  });

  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prefer (the default) and allow talk to it in clear, disable too', async () => {
    for (const mode of ['prefer', 'allow', 'disable'] as const) {
      const sql = client(mode);
      for (let i = 0; i < 2; i += 1) {
        const rows = await sql.query<{ ssl: boolean }>({ server: 'pg1' }, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
        assert.equal(rows[0]?.ssl, false, mode);
      }
    }
  });

  it('require and the verify modes refuse it with HR_PG_TLS, saying the server offers no TLS', async () => {
    for (const mode of ['require', 'verify-ca', 'verify-full'] as const) {
      await assert.rejects(client(mode).query({ server: 'pg1' }, 'SELECT 1'), (err: unknown) => {
        assert.equal((err as HandyRepError).code, ErrorCodes.PG_TLS, mode);
        assert.match((err as Error).message, new RegExp(`refusing server pg1 .*: the server does not offer TLS, which pg_sslmode = ${mode} requires`));
        return true;
      });
    }
  });
});
