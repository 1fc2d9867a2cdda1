import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiFunction } from '../api/api-functions.js';
import type { ApiFunction } from '../api/api-functions.js';
import { buildCall, parseSetPairs, parseSetValue, positionalParams } from './cli-arguments.js';
import { UsageError } from './usage-error.js';

function fn(spec: string): ApiFunction {
  const found = apiFunction(spec);
  assert.ok(found, spec);
  return found;
}

function refused(work: () => unknown, message: RegExp): void {
  assert.throws(work, (err: unknown) => err instanceof UsageError && message.test(err.message));
}

describe('CLI arguments from the API table', () => {
  it('takes non-boolean parameters positionally in the table order, booleans as flags', () => {
    assert.deepEqual(positionalParams(fn('clone')).map((param) => param.name), ['replicaserver', 'clonefrom']);
    assert.deepEqual(positionalParams(fn('manual_failover')).map((param) => param.name), ['newmaster', 'at']);
    assert.deepEqual(buildCall(fn('manual_failover'), { positionals: ['pg2', '2026-12-05T02:00:00Z'], options: {} }).args, { newmaster: 'pg2', at: '2026-12-05T02:00:00Z' });
    const call = buildCall(fn('clone'), { positionals: ['pg3', 'pg2'], options: { reclone: true } });
    assert.deepEqual(call.args, { replicaserver: 'pg3', clonefrom: 'pg2', reclone: true });
  });

  it('leaves omitted optional parameters out, and keeps an explicit false', () => {
    assert.deepEqual(buildCall(fn('manual_failover'), { positionals: [undefined], options: {} }).args, {});
    assert.deepEqual(buildCall(fn('manual_failover'), { positionals: ['pg2'], options: { remaster: false } }).args, { newmaster: 'pg2', remaster: false });
  });

  it('converts integers and range-checks them by the schema', () => {
    assert.deepEqual(buildCall(fn('read_log'), { positionals: ['50'], options: {} }).args, { numlines: 50 });
    refused(() => buildCall(fn('read_log'), { positionals: ['abc'], options: {} }), /numlines must be an integer, got "abc"/);
    refused(() => buildCall(fn('read_log'), { positionals: ['1.5'], options: {} }), /numlines must be an integer/);
    refused(() => buildCall(fn('read_log'), { positionals: ['0'], options: {} }), /numlines must be >= 1/);
    refused(() => buildCall(fn('read_log'), { positionals: ['10001'], options: {} }), /numlines must be <= 10000/);
  });

  it('checks enums and server-name patterns before any call', () => {
    refused(() => buildCall(fn('get_status'), { positionals: ['sometimes'], options: {} }), /check_type must be one of cached, poll, verify/);
    assert.deepEqual(buildCall(fn('get_status'), { positionals: ['poll'], options: {} }).args, { check_type: 'poll' });
    refused(() => buildCall(fn('poll'), { positionals: ['pg1;rm -rf /'], options: {} }), /servername must match pattern/);
    refused(() => buildCall(fn('poll'), { positionals: [undefined], options: {} }), /missing required argument servername/);
  });

  it('builds serverprops from a JSON object, --set pairs, or both (pairs win)', () => {
    const alter = fn('alter_server_def');
    assert.deepEqual(buildCall(alter, { positionals: ['pg2', '{"port": 5433, "hostname": "a"}'], options: {} }).args, {
      servername: 'pg2',
      serverprops: { port: 5433, hostname: 'a' },
    });
    assert.deepEqual(buildCall(alter, { positionals: ['pg2', '{"port": 5433}'], options: { set: ['port=5434', 'hostname=db.example'] } }).args['serverprops'], {
      port: 5434,
      hostname: 'db.example',
    });
    assert.deepEqual(buildCall(alter, { positionals: ['pg2', undefined], options: { set: ['nofailover=true'] } }).args['serverprops'], { nofailover: true });
    refused(() => buildCall(alter, { positionals: ['pg2', undefined], options: {} }), /missing required argument serverprops/);
    refused(() => buildCall(alter, { positionals: ['pg2', '[1,2]'], options: {} }), /serverprops must be a JSON object/);
    refused(() => buildCall(alter, { positionals: ['pg2', 'port=5433'], options: {} }), /serverprops must be a JSON object/);
    refused(() => buildCall(alter, { positionals: ['pg2', undefined], options: { set: ['=5'] } }), /--set needs key=value/);
    const many = JSON.stringify(Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, index])));
    refused(() => buildCall(alter, { positionals: ['pg2', many], options: {} }), /serverprops must NOT have more than 64 properties/);
  });

  it('reads --set values as JSON scalars where they are, strings otherwise', () => {
    assert.equal(parseSetValue('5433'), 5433);
    assert.equal(parseSetValue('false'), false);
    assert.equal(parseSetValue('null'), null);
    assert.equal(parseSetValue('"10"'), '10');
    assert.equal(parseSetValue('db1.example.com'), 'db1.example.com');
    assert.equal(parseSetValue('{"a":1}'), '{"a":1}');
    assert.deepEqual(parseSetPairs(['pgdata=/var/lib/pg=15']), { pgdata: '/var/lib/pg=15' });
  });

  it('takes get_setting as one [handyrep] key or as category and setting', () => {
    const setting = fn('get_setting');
    assert.deepEqual(buildCall(setting, { positionals: ['server_file', undefined], options: {} }).args, { setting: 'server_file' });
    assert.deepEqual(buildCall(setting, { positionals: ['failover', 'poll_interval'], options: {} }).args, { category: 'failover', setting: 'poll_interval' });
    refused(() => buildCall(setting, { positionals: [undefined, undefined], options: {} }), /get_setting takes a setting name/);
    refused(() => buildCall(setting, { positionals: ['x'.repeat(129), undefined], options: {} }), /setting must NOT have more than 128 characters/);
  });

  it('checks boolean flags by their schema too', () => {
    refused(() => buildCall(fn('shutdown'), { positionals: ['pg2'], options: { force: 'yes' } }), /force must be boolean/);
  });
});
