import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerRegistry } from '../registry/server-registry.js';
import { StatusJsonCache } from './status-json-cache.js';

function registry(): ServerRegistry {
  return new ServerRegistry(
    { serverDefaults: { enabled: true, port: 5432 }, configServers: { db1: { hostname: 'db1.example', role: 'master' } }, saved: undefined, overrideServerFile: false },
    { now: () => 0 },
  );
}

describe('StatusJsonCache', () => {
  it('serialises once per change: a registry change, another key or another registry', () => {
    const cache = new StatusJsonCache();
    let builds = 0;
    const build = (): unknown => ({ n: ++builds });
    const first = registry();
    assert.equal(cache.bytes(first, 'a', build).toString(), '{"n":1}');
    assert.equal(cache.bytes(first, 'a', build).toString(), '{"n":1}');
    first.setExtra('paused', { since: 1 });
    assert.equal(cache.bytes(first, 'a', build).toString(), '{"n":2}');
    assert.equal(cache.bytes(first, 'b', build).toString(), '{"n":3}');
    const second = registry();
    assert.equal(cache.bytes(second, 'b', build).toString(), '{"n":4}');
    first.setExtra('paused', { since: 2 });
    assert.equal(cache.bytes(second, 'b', build).toString(), '{"n":4}', 'the replaced registry is no longer listened to');
    cache.close();
  });
});
