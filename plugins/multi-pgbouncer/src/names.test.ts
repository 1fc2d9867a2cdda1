import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPort, assertSafeHost, databaseAliases, parseDatabaseList } from './names.js';

describe('database names', () => {
  it('a list or a comma-separated string, each with a read-only alias', () => {
    assert.deepEqual(parseDatabaseList(' appdb , reports'), ['appdb', 'reports']);
    assert.deepEqual(databaseAliases(['appdb', 'reports'], '_ro'), [
      { alias: 'appdb', dbname: 'appdb', readonly: false },
      { alias: 'reports', dbname: 'reports', readonly: false },
      { alias: 'appdb_ro', dbname: 'appdb', readonly: true },
      { alias: 'reports_ro', dbname: 'reports', readonly: true },
    ]);
    assert.deepEqual(databaseAliases('appdb', ''), [{ alias: 'appdb', dbname: 'appdb', readonly: false }]);
  });

  it('refuses shell, INI and admin-console metacharacters, empties, repeats and collisions', () => {
    for (const bad of ['app db', 'app;db', 'a$(id)', "a'b", 'a"b', 'a=b', 'a\nb', 'a-b', 'a.b', '*', '', 'a,,b', 'ä']) {
      assert.throws(() => databaseAliases(bad, '_ro'), { code: 'HR_BAD_ARGUMENT' }, JSON.stringify(bad));
      assert.throws(() => databaseAliases([bad], '_ro'), { code: 'HR_BAD_ARGUMENT' }, JSON.stringify(bad));
    }
    assert.throws(() => databaseAliases(['appdb'], '_r;o'), /readonly_suffix/);
    assert.throws(() => databaseAliases(['appdb', 'APPDB'], '_ro'), /twice/);
    assert.throws(() => databaseAliases(['appdb', 'appdb_ro'], '_ro'), /twice/);
    assert.throws(() => databaseAliases([], '_ro'), /empty/);
    assert.throws(() => databaseAliases(['a'.repeat(62)], '_ro'), /longer than 63/);
  });

  it('hosts and ports that can be written after host= and port=', () => {
    for (const good of ['10.0.0.1', 'db-1.example.com', '::1', '/var/run/postgresql']) assert.doesNotThrow(() => assertSafeHost('s', good));
    for (const bad of ['db 1', "db'1", 'db;1', 'a=b', '']) assert.throws(() => assertSafeHost('s', bad), { code: 'HR_BAD_ARGUMENT' });
    assert.equal(assertPort('s', 5432), 5432);
    for (const bad of [0, 70000, 1.5, '5432', undefined]) assert.throws(() => assertPort('s', bad), /invalid port/);
  });
});
