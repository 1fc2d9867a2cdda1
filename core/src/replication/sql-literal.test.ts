import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pickLoopbackAddress } from '../remote/test-support/loopback.js';
import { startPostgres } from '../remote/test-support/postgres-fixture.js';
import type { PostgresFixture } from '../remote/test-support/postgres-fixture.js';
import { alterSystemStatement, sqlLiteral } from './primary-conninfo.js';

/** Values a primary_conninfo can carry that a naive literal gets wrong. */
const TRICKY = ["host=h password='it\\'s' user=a", 'C:\\path\\to\\file', "a''b", "\\'; DROP TABLE x; --", 'trailing backslash \\', 'ünïcødé \u2028', ''];

/**
 * How PostgreSQL's lexer reads a string constant (one literal, nothing else):
 * with standard_conforming_strings off, a plain '...' constant takes backslash
 * escapes as E'...' always does; with it on, backslashes in '...' are plain.
 */
function readLiteral(literal: string, standardConformingStrings: boolean): string {
  const escaped = literal.startsWith("E'") || !standardConformingStrings;
  const body = literal.slice(literal.startsWith("E'") ? 2 : 1, -1);
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] ?? '';
    if (char === "'" && body[i + 1] === "'") {
      out += "'";
      i += 1;
    } else if (char === "'") {
      throw new Error(`the literal ends early at ${i}: ${literal}`);
    } else if (char === '\\' && escaped) {
      out += body[i + 1] ?? '';
      i += 1;
    } else {
      out += char;
    }
  }
  return out;
}

describe('SQL literals', () => {
  it('read back as the same text under both standard_conforming_strings settings', () => {
    for (const value of TRICKY) {
      for (const setting of [true, false]) {
        assert.equal(readLiteral(sqlLiteral(value), setting), value, `${JSON.stringify(value)} with standard_conforming_strings ${setting ? 'on' : 'off'}`);
      }
    }
    // The plain form this replaces reads differently once the setting is off.
    const plain = `'${'C:\\path'.replace(/'/g, "''")}'`;
    assert.notEqual(readLiteral(plain, false), 'C:\\path');
  });

  it('refuse a NUL byte, and ALTER SYSTEM takes one checked parameter name and nothing else', () => {
    assert.throws(() => sqlLiteral('a\0b'), /NUL/);
    assert.equal(alterSystemStatement('primary_conninfo', "x'y"), "ALTER SYSTEM SET primary_conninfo = E'x''y'");
    assert.throws(() => alterSystemStatement('primary_conninfo = 1; SELECT 1', 'x'), /not a configuration parameter name/);
    assert.ok(!alterSystemStatement('primary_conninfo', "'; SELECT 1; --").replace(/E'(?:[^'\\]|''|\\.)*'/g, '').includes(';'), 'no statement separator outside the literal');
  });
});

const skip =
  process.getuid?.() !== 0
    ? 'needs root (runs PostgreSQL as postgres)'
    : !existsSync('/usr/lib/postgresql/15/bin/postgres')
      ? 'needs PostgreSQL 15 in /usr/lib/postgresql/15/bin'
      : false;

describe('SQL literals on a real PostgreSQL 15', { skip }, () => {
  let dir: string;
  let server: PostgresFixture;
  let client: pg.Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-literal-'));
    const address = await pickLoopbackAddress([5432]);
    server = await startPostgres(dir, address, 5432, 'literal-test-pw');
    client = new pg.Client({ host: address, port: 5432, user: 'postgres', password: 'literal-test-pw', database: 'postgres', connectionTimeoutMillis: 5000, query_timeout: 10_000 });
    await client.connect();
  });

  after(async () => {
    await client?.end().catch(() => undefined);
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const setting of ['on', 'off']) {
    it(`SELECT and ALTER SYSTEM store the exact text with standard_conforming_strings = ${setting}`, async () => {
      await client.query(`SET standard_conforming_strings = ${setting}`);
      for (const value of TRICKY) {
        const selected = await client.query<{ v: string }>(`SELECT ${sqlLiteral(value)} AS v`);
        assert.equal(selected.rows[0]?.v, value, `SELECT ${JSON.stringify(value)}`);
        await client.query(alterSystemStatement('primary_conninfo', value));
        // pg_file_settings reads postgresql.auto.conf back as the server will.
        const stored = await client.query<{ setting: string }>("SELECT setting FROM pg_file_settings WHERE name = 'primary_conninfo' AND sourcefile LIKE '%postgresql.auto.conf'");
        assert.equal(stored.rows.at(-1)?.setting ?? '', value, `ALTER SYSTEM ${JSON.stringify(value)}`);
      }
      await client.query('ALTER SYSTEM RESET primary_conninfo');
    });
  }
});
