import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadArgumentError } from '@handyrep/plugin-sdk';
import type { ReturnDictionary, ServerDefinition } from '@handyrep/plugin-sdk';
import { serverPropsValidator } from '../config/server-props-validator.js';
import { buildCandidates } from '../failover/candidates.js';
import { HandyRep } from '../handyrep.js';
import { writeTempConfig } from '../test-support/temp-config.js';
import type { TempConfig } from '../test-support/temp-config.js';
import { clusterStatus } from '../status/cluster-status.js';
import { unknownServerStatus } from '../status/server-status.js';
import { ServerRegistry } from './server-registry.js';
import type { RegistryInput } from './server-registry.js';
import type { SavedState } from './state-file.js';

// Issue 12, item 5: values set through the API are stored as their schema-converted form.

const DEFAULTS = { enabled: true, port: 5432, lag_limit: 100, failover_lag_limit: 1000, nofailover: false };
const CONFIG = {
  db1: { hostname: 'db1.example', role: 'master' },
  db2: { hostname: 'db2.example', role: 'replica' },
};

function make(input: Partial<RegistryInput> = {}): ServerRegistry {
  return new ServerRegistry(
    { serverDefaults: DEFAULTS, configServers: CONFIG, saved: undefined, overrideServerFile: false, ...input },
    { now: () => 0, validateProps: serverPropsValidator([]) },
  );
}

const POSITION = { result: 'SUCCESS', details: 'ok', received_lsn: '0/3000000', replayed_lsn: '0/3000000', in_recovery: true, receiver_status: null, sender_host: null, last_msg_age_ms: null } as const;

describe('server properties set through the API are stored converted (registry with the schema validator)', () => {
  it('the confirmed repro: {"nofailover":"true","failover_lag_limit":"5"} gives a nofailover candidate with a lag limit of 5', () => {
    const r = make();
    const def = r.alter('db2', { nofailover: 'true', failover_lag_limit: '5' });
    assert.equal(def.nofailover, true);
    assert.equal(def.failover_lag_limit, 5);
    assert.deepEqual(r.snapshot(1).servers.db2?.definition, { hostname: 'db2.example', role: 'replica', nofailover: true, failover_lag_limit: 5 });
    const [candidate] = buildCandidates([{ server: r.get('db2'), position: POSITION }]);
    assert.equal(candidate?.nofailover, true);
    assert.equal(candidate?.failover_lag_limit, 5);
  });

  it('add_server stores numbers and booleans, whatever strings were sent', () => {
    const r = make();
    r.add('db3', { hostname: 'db3.example', port: '5433', failover_priority: '2', nofailover: 'false', lag_limit: '7.5' });
    assert.deepEqual(r.snapshot(1).servers.db3?.definition, {
      hostname: 'db3.example',
      port: 5433,
      failover_priority: 2,
      nofailover: false,
      lag_limit: 7.5,
      role: 'replica',
      enabled: false,
    });
  });

  const refusals: [what: string, props: Record<string, unknown>, message: RegExp][] = [
    ['"abc" for a number', { failover_lag_limit: 'abc' }, /server db2: failover_lag_limit must be a number, not "abc"/],
    ['"yes" for a boolean', { nofailover: 'yes' }, /nofailover must be true or false, not "yes"/],
    ['"5.5" for an integer', { port: '5.5' }, /port must be an integer, not "5.5"/],
    ['a converted value out of range', { failover_lag_limit: '-1' }, /failover_lag_limit must be >= 0/],
    ['one bad value among good ones', { nofailover: 'true', lag_limit: 'lots' }, /lag_limit must be a number, not "lots"/],
  ];
  for (const [what, props, message] of refusals) {
    it(`refuses ${what} with a clear error and changes nothing`, () => {
      const r = make();
      const before = JSON.stringify(r.snapshot(0));
      let changes = 0;
      r.onChange(() => changes++);
      assert.throws(() => r.alter('db2', props), (err: unknown) => err instanceof BadArgumentError && message.test(err.message));
      assert.equal(changes, 0);
      assert.equal(JSON.stringify(r.snapshot(0)), before);
    });
  }

  it('a state file written unconverted (before this fix) is converted when loaded, with a warning', () => {
    const saved: SavedState = {
      format: 1,
      generation: 3,
      updated_at: '2024-01-01T00:00:00.000Z',
      servers: {
        db1: { definition: { hostname: 'db1.example', role: 'master' }, status: unknownServerStatus() },
        db2: { definition: { hostname: 'db2.example', role: 'replica', nofailover: 'true', failover_lag_limit: '5', odd_key: 'x' }, status: unknownServerStatus() },
      },
      cluster: clusterStatus('healthy', 'ok', 1),
      extra: {},
    };
    const r = make({ saved });
    assert.equal(r.get('db2').nofailover, true);
    assert.equal(r.get('db2').failover_lag_limit, 5);
    // A key the schema refuses (e.g. of a plugin no longer loaded) is kept as it was.
    assert.equal(r.get('db2')['odd_key'], 'x');
    assert.deepEqual(r.warnings, ['server db2: stored nofailover "true", failover_lag_limit "5" converted to the schema\'s types']);
  });
});

const HR_CONFIG = [
  '[handyrep]',
  'log_file = handyrep.log',
  '[server_defaults]',
  'lag_limit = 50',
  '[servers.john]',
  'hostname = 127.0.0.1',
  'role = master',
  '[servers.paul]',
  'hostname = 127.0.0.2',
  'role = replica',
  '[passwords]',
  'superuser_password = secret',
  'replication_password = secret-repl',
].join('\n');

async function savedDefinitions(dir: string): Promise<Record<string, Record<string, unknown>>> {
  const state = JSON.parse(await readFile(join(dir, 'servers.save'), 'utf8')) as SavedState;
  return Object.fromEntries(Object.entries(state.servers).map(([name, server]) => [name, server.definition]));
}

describe('alter_server_def/add_server through the library API: the saved state file holds booleans and numbers', () => {
  let temp: TempConfig;

  before(async () => {
    temp = await writeTempConfig(HR_CONFIG);
  });

  after(async () => {
    await temp.cleanup();
  });

  it('stores the converted values, refuses an unconvertible one, and the state file says so after a restart', async () => {
    const hr = await HandyRep.open(temp.file);
    try {
      const altered = (await hr.alterServerDef('paul', { nofailover: 'true', failover_lag_limit: '5' })) as ReturnDictionary<{ definition?: ServerDefinition }>;
      assert.equal(altered.result, 'SUCCESS', altered.details);
      assert.equal(altered.definition?.nofailover, true);
      assert.equal(altered.definition?.failover_lag_limit, 5);

      const added = (await hr.addServer('ringo', { hostname: '127.0.0.4', port: '5433', failover_priority: '3', nofailover: 'false' })) as ReturnDictionary;
      assert.equal(added.result, 'SUCCESS', added.details);

      const refused = (await hr.alterServerDef('paul', { failover_lag_limit: 'abc' })) as ReturnDictionary;
      assert.equal(refused.result, 'FAIL');
      assert.match(refused.details, /failover_lag_limit must be a number, not "abc"/);
    } finally {
      await hr.close();
    }

    const definitions = await savedDefinitions(temp.dir);
    assert.equal(definitions['paul']?.['nofailover'], true);
    assert.equal(definitions['paul']?.['failover_lag_limit'], 5);
    assert.deepEqual(definitions['ringo'], { hostname: '127.0.0.4', port: 5433, failover_priority: 3, nofailover: false, role: 'replica', enabled: false });

    const reopened = await HandyRep.open(temp.file);
    try {
      const info = (await reopened.getServerInfo('paul')) as Record<string, ServerDefinition>;
      assert.equal(info['paul']?.nofailover, true);
      assert.equal(info['paul']?.failover_lag_limit, 5);
    } finally {
      await reopened.close();
    }
  });
});
