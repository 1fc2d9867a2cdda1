import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testServer } from '../testing/test-context.js';
import { absolutePath } from './absolute-path.js';
import { inDataDirectory, pgServer } from './pg-server.js';

const full = { name: 'db1', role: 'master', hostname: '10.0.0.1', port: 5433, pgdata: '/srv/pg/15/main', pg_bin: '/usr/lib/postgresql/15/bin' };

describe('pgServer', () => {
  it('reads a definition, with ssh defaults and postgresql.conf in pgdata', () => {
    assert.deepEqual(pgServer(testServer(full)), {
      name: 'db1',
      role: 'master',
      hostname: '10.0.0.1',
      port: 5433,
      pgdata: '/srv/pg/15/main',
      configFile: undefined,
      pgBin: '/usr/lib/postgresql/15/bin',
      sshUser: 'postgres',
      sshPort: 22,
    });
  });

  it('names postgresql.conf when pgconf is another directory', () => {
    assert.equal(pgServer(testServer({ ...full, pgconf: '/etc/postgresql/15/main' })).configFile, '/etc/postgresql/15/main/postgresql.conf');
    assert.equal(pgServer(testServer({ ...full, pgconf: '/srv/pg/15/main/' })).configFile, undefined);
  });

  it('refuses unusable values with a coded error naming the server', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ pgdata: 'relative' }, /'pgdata' must be an absolute path/],
      [{ pgdata: '/' }, /normalised directory path other than \//],
      [{ pgdata: '/srv/pg/../x' }, /normalised/],
      [{ pgdata: '/srv/pg/' }, /normalised/],
      [{ pgdata: '/srv/a\nb' }, /control character/],
      [{ hostname: '-oProxyCommand=x' }, /is not a host name/],
      [{ port: 0 }, /invalid port/],
      [{ pg_bin: '' }, /'pg_bin' must be set/],
      [{ ssh_user: 'a b' }, /invalid ssh_user/],
      [{ ssh_port: 70000 }, /invalid ssh_port/],
      [{ pgconf: '/etc/\tx' }, /'pgconf' contains a control character/],
    ];
    for (const [over, message] of bad) {
      assert.throws(() => pgServer(testServer({ ...full, ...over })), { code: 'HR_BAD_ARGUMENT', message }, JSON.stringify(over));
    }
  });

  it('resolves a file relative to pgdata; an absolute one is kept', () => {
    assert.equal(inDataDirectory('/srv/pg', 'x.pgpass'), '/srv/pg/x.pgpass');
    assert.equal(inDataDirectory('/srv/pg', '/etc/x.pgpass'), '/etc/x.pgpass');
  });
});

describe('absolutePath', () => {
  it('normalises an absolute path and refuses what is not one', () => {
    assert.equal(absolutePath('x', '/a//b/../c/'), '/a/c/');
    assert.throws(() => absolutePath('[archive] archive_directory', undefined), { code: 'HR_BAD_ARGUMENT', message: /^\[archive\] archive_directory must be set/ });
    assert.throws(() => absolutePath('x', 'rel'), /must be an absolute path/);
    assert.throws(() => absolutePath('x', '/a\0b'), /newline or NUL/);
  });
});
