import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatConninfo, parseConninfo, retargetConninfo, sqlLiteral } from './primary-conninfo.js';

describe('primary_conninfo handling', () => {
  it('parses plain and quoted values with escapes', () => {
    assert.deepEqual(parseConninfo('host=10.0.0.1  port = 5432 user=replicator'), [
      ['host', '10.0.0.1'],
      ['port', '5432'],
      ['user', 'replicator'],
    ]);
    assert.deepEqual(parseConninfo(`user=replicator password='it\\'s x\\\\y' sslmode=prefer`), [
      ['user', 'replicator'],
      ['password', "it's x\\y"],
      ['sslmode', 'prefer'],
    ]);
  });

  it('round-trips through formatConninfo', () => {
    const pairs: [string, string][] = [['password', "a 'b' \\c"], ['host', 'h']];
    assert.deepEqual(parseConninfo(formatConninfo(pairs)), pairs);
  });

  it('retargets host and port, keeping credentials and options', () => {
    const result = retargetConninfo(`user=replicator passfile='/var/lib/postgresql/.pgpass' host=10.0.0.1 hostaddr=10.0.0.1 port=5432 sslmode=prefer application_name=pg3`, '10.0.0.2', 5433, 'pg3');
    const parsed = Object.fromEntries(parseConninfo(result));
    assert.equal(parsed['host'], '10.0.0.2');
    assert.equal(parsed['port'], '5433');
    assert.equal(parsed['hostaddr'], undefined);
    assert.equal(parsed['user'], 'replicator');
    assert.equal(parsed['passfile'], '/var/lib/postgresql/.pgpass');
    assert.equal(parsed['application_name'], 'pg3');
  });

  it('adds application_name when the old string had none', () => {
    assert.equal(Object.fromEntries(parseConninfo(retargetConninfo('host=a user=r', 'b', 5432, 'pg2')))['application_name'], 'pg2');
  });

  it('refuses malformed strings', () => {
    assert.throws(() => parseConninfo("host='unterminated"), /unterminated/);
    assert.throws(() => parseConninfo('=x'), /malformed/);
  });

  it('quotes SQL literals as escape strings', () => {
    assert.equal(sqlLiteral("a'b"), "E'a''b'");
    assert.equal(sqlLiteral('a\\b'), "E'a\\\\b'");
  });
});
