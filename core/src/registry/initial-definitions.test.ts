import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverStatus } from '../status/server-status.js';
import { initialDefinitions } from './initial-definitions.js';
import type { SavedState } from './state-file.js';

const down = serverStatus('down', 'verified down', 0);

function saved(servers: Record<string, Record<string, unknown>>): SavedState {
  return {
    format: 1,
    generation: 4,
    updated_at: '2024-01-01T00:00:00.000Z',
    servers: Object.fromEntries(Object.entries(servers).map(([n, d]) => [n, { definition: d, status: down }])),
    cluster: { status: 'unknown', status_no: 0, status_ts: '', status_message: '' },
    extra: {},
  };
}

describe('initialDefinitions', () => {
  it('no state file: the config sections, in file order, status unknown', () => {
    const r = initialDefinitions({
      serverDefaults: {},
      configServers: { b: { hostname: 'hb', role: 'master' }, a: { hostname: 'ha', role: 'replica' } },
      saved: undefined,
      overrideServerFile: false,
    });
    assert.deepEqual(r.servers.map((s) => [s.name, s.explicit, s.status.status]), [
      ['b', { hostname: 'hb', role: 'master' }, 'unknown'],
      ['a', { hostname: 'ha', role: 'replica' }, 'unknown'],
    ]);
    assert.deepEqual(r.warnings, []);
  });

  it('"servers.save is canonical": saved definitions, config-only and differing config entries named in warnings', () => {
    const r = initialDefinitions({
      serverDefaults: {},
      configServers: { a: { hostname: 'conf-a', role: 'master' }, c: { hostname: 'hc', role: 'replica' }, s: { hostname: 'hs' } },
      saved: saved({ a: { hostname: 'saved-a', role: 'master' }, s: { hostname: 'hs', role: 'replica' } }),
      overrideServerFile: false,
    });
    assert.deepEqual(r.servers.map((s) => [s.name, s.explicit.hostname, s.status.status]), [
      ['a', 'saved-a', 'down'],
      ['s', 'hs', 'down'],
    ]);
    assert.deepEqual(r.warnings, [
      'server a: config values of hostname are ignored because servers.save is canonical; use alter_server_def or override_server_file',
      'server c in the config is ignored because servers.save is canonical; use add_server or override_server_file',
    ]);
  });

  it('override_server_file: config definitions, saved statuses of same-named servers kept', () => {
    const r = initialDefinitions({
      serverDefaults: {},
      configServers: { a: { hostname: 'conf-a', role: 'master' }, n: { hostname: 'hn', role: 'replica' } },
      saved: saved({ a: { hostname: 'saved-a', role: 'master' }, gone: { hostname: 'hg', role: 'replica' } }),
      overrideServerFile: true,
    });
    assert.deepEqual(r.servers.map((s) => [s.name, s.explicit.hostname, s.status.status]), [
      ['a', 'conf-a', 'down'],
      ['n', 'hn', 'unknown'],
    ]);
    assert.deepEqual(r.warnings, []);
  });

  it('keys the registry owns never enter a definition, and inputs are copied', () => {
    const section = { hostname: 'h', role: 'replica', status: 'healthy', name: 'x', extra: { deep: 1 } };
    const r = initialDefinitions({ serverDefaults: {}, configServers: { a: section }, saved: undefined, overrideServerFile: false });
    assert.deepEqual(r.servers[0]?.explicit, { hostname: 'h', role: 'replica', extra: { deep: 1 } });
    section.extra.deep = 2;
    assert.deepEqual(r.servers[0]?.explicit.extra, { deep: 1 });
  });
});
