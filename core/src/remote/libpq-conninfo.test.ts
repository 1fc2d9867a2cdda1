import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, hasErrorCode } from '@handyrep/plugin-sdk';
import { staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import { buildConninfo, quoteConninfoValue } from './libpq-conninfo.js';
import { PgSqlClient } from './pg-sql.js';
import { spawnCaptured } from './test-support/processes.js';

const settings = { superuser: 'postgres', database: 'postgres', connectTimeoutMs: 5000, statementTimeoutMs: 30_000 };

function client(secrets: Record<string, string> = { superuser_password: 'S3cret pass' }): PgSqlClient {
  return new PgSqlClient({
    servers: staticServerView([testServer({ name: 'db1', hostname: '127.0.0.5', port: 5433 })]),
    secrets: {
      get: (key) => secrets[key],
      require: (key) => {
        const value = secrets[key];
        if (value === undefined) throw new Error(`missing ${key}`);
        return value;
      },
    },
    settings,
  });
}

describe('quoteConninfoValue', () => {
  it('leaves plain values bare', () => {
    assert.equal(quoteConninfoValue('127.0.0.5'), '127.0.0.5');
    assert.equal(quoteConninfoValue('db-1.example'), 'db-1.example');
    assert.equal(quoteConninfoValue('/var/run/postgresql'), '/var/run/postgresql');
  });

  it('quotes empty values, spaces, quotes and backslashes per libpq', () => {
    assert.equal(quoteConninfoValue(''), "''");
    assert.equal(quoteConninfoValue('a b'), "'a b'");
    assert.equal(quoteConninfoValue("it's"), "'it\\'s'");
    assert.equal(quoteConninfoValue('back\\slash'), "'back\\\\slash'");
    assert.equal(quoteConninfoValue('x=y'), "'x=y'");
  });

  it('refuses NUL bytes', () => {
    assert.throws(() => quoteConninfoValue('a\0b'), (err: unknown) => hasErrorCode(err, ErrorCodes.BAD_ARGUMENT));
  });
});

describe('buildConninfo', () => {
  it('refuses a password and keys that are not keywords', () => {
    assert.throws(() => buildConninfo([['password', 'x']]), /never contains 'password'/);
    assert.throws(() => buildConninfo([['host x', 'y']]), (err: unknown) => hasErrorCode(err, ErrorCodes.BAD_ARGUMENT));
  });
});

describe('PgSqlClient.conninfo', () => {
  it('builds host/port/user/dbname/connect_timeout from the registry and settings, without the password', () => {
    const text = client().conninfo({ server: 'db1' });
    assert.equal(text, 'host=127.0.0.5 port=5433 user=postgres dbname=postgres connect_timeout=5');
    assert.ok(!text.includes('S3cret'));
  });

  it('applies target overrides and extra keys in order, extra overriding', () => {
    const text = client().conninfo(
      { server: 'db1', user: 'repl user', port: 6432, database: "we'ird", connectTimeoutMs: 1500 },
      { application_name: 'db2', sslmode: 'prefer', host: 'db1.example' },
    );
    assert.equal(
      text,
      "host=db1.example port=6432 user='repl user' dbname='we\\'ird' connect_timeout=2 application_name=db2 sslmode=prefer",
    );
  });

  it('refuses password in extra', () => {
    assert.throws(() => client().conninfo({ server: 'db1' }, { password: 'x' }), (err: unknown) => hasErrorCode(err, ErrorCodes.BAD_ARGUMENT));
  });

  it('produces strings libpq itself accepts', async () => {
    // pg_isready exits 3 when it cannot parse its parameters, 2 when it just got no answer.
    const text = client().conninfo(
      { server: 'db1', user: "o'brien \\ x", port: 1 },
      { application_name: "a b 'c' \\d", options: '-c search_path=x' },
    );
    const probe = spawnCaptured(['pg_isready', '-d', text, '-t', '1']);
    const status = await probe.exited;
    assert.equal(status, 2, `pg_isready said: ${probe.output()}`);
  });
});
