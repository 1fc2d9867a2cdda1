import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conninfoUpstream, formatConninfo, parseConninfo, retargetConninfo, sqlLiteral } from './primary-conninfo.js';

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

describe('conninfoUpstream', () => {
  it('names the one host and port a primary_conninfo points at, 5432 when it names no port', () => {
    assert.deepEqual(conninfoUpstream("host=127.0.0.2 port=5433 user=replicator application_name='pg3'"), { host: '127.0.0.2', port: 5433 });
    assert.deepEqual(conninfoUpstream('host=db1.example user=replicator'), { host: 'db1.example', port: 5432 });
    assert.deepEqual(conninfoUpstream('hostaddr=10.0.0.1 port=6000'), { host: '10.0.0.1', port: 6000 });
  });

  it('gives no upstream for an empty text, no host, a multi-host list or a text it cannot parse', () => {
    assert.equal(conninfoUpstream(''), undefined);
    assert.equal(conninfoUpstream('user=replicator'), undefined);
    assert.equal(conninfoUpstream('host=h1,h2 port=5432'), undefined);
    assert.equal(conninfoUpstream("host='unterminated"), undefined);
  });
});
