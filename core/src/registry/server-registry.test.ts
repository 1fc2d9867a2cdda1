import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadArgumentError, ErrorCodes, HandyRepError, UnknownServerError } from '@handyrep/plugin-sdk';
import type { ServerView } from '@handyrep/plugin-sdk';
import { serverStatus } from '../status/server-status.js';
import { clusterStatus } from '../status/cluster-status.js';
import { ServerRegistry } from './server-registry.js';
import type { PropsCheck, RegistryChange, RegistryInput, RegistryOptions } from './server-registry.js';
import { savedStateProblems } from './state-file.js';
import type { SavedState } from './state-file.js';

const DEFAULTS = {
  enabled: true,
  port: 5432,
  pgdata: '/var/lib/postgresql/15/main',
  pgconf: '',
  ssh_user: 'postgres',
  lag_limit: 100,
};

const CONFIG = {
  db1: { hostname: 'db1.example', role: 'master' },
  db2: { hostname: 'db2.example', role: 'replica', port: 5433 },
  db3: { hostname: 'db3.example', role: 'replica', enabled: false },
  pool: { hostname: 'pool.example', role: 'pgbouncer', port: 6432 },
  wal: { hostname: 'wal.example', role: 'archive' },
};

function savedState(servers: SavedState['servers'], extra: Record<string, unknown> = {}): SavedState {
  return {
    format: 1,
    generation: 9,
    updated_at: '2024-01-01T00:00:00.000Z',
    servers,
    cluster: clusterStatus('warning', '1 replicas are down', 1000),
    extra,
  };
}

function make(input: Partial<RegistryInput> = {}, options: RegistryOptions = {}): ServerRegistry {
  return new ServerRegistry(
    { serverDefaults: DEFAULTS, configServers: CONFIG, saved: undefined, overrideServerFile: false, ...input },
    { now: () => 0, ...options },
  );
}

/** A stand-in schema check: refuses a negative lag_limit, converts nothing. */
function lagLimitValidator(p: Readonly<Record<string, unknown>>): PropsCheck {
  return { converted: { ...p }, problems: typeof p.lag_limit === 'number' && p.lag_limit < 0 ? ['lag_limit must be >= 0'] : [] };
}

/** Records changes so a refused call can be shown to change nothing. */
function watched(registry: ServerRegistry): { changes: RegistryChange[]; unchanged: () => void } {
  const changes: RegistryChange[] = [];
  registry.onChange((c) => changes.push(c));
  const before = JSON.stringify(registry.snapshot(0));
  return {
    changes,
    unchanged: () => {
      assert.deepEqual(changes, []);
      assert.equal(JSON.stringify(registry.snapshot(0)), before);
    },
  };
}

const bad = (fragment: RegExp) => (err: unknown) => err instanceof BadArgumentError && fragment.test(err.message);

describe('ServerRegistry: merge order server_defaults < conf < saved state < API', () => {
  it('each layer overrides the one below it, key by key over the defaults', () => {
    const noSave = make();
    assert.equal(noSave.get('db1').port, 5432, 'server_defaults');
    assert.equal(noSave.get('db2').port, 5433, 'conf [servers.x] over server_defaults');

    const saved = make({ saved: savedState({ db2: { definition: { hostname: 'db2.example', role: 'replica', port: 5434 }, status: serverStatus('healthy', 'ok', 0) } }) });
    assert.equal(saved.get('db2').port, 5434, 'saved state over conf');
    assert.equal(saved.get('db2').ssh_user, 'postgres', 'defaults still fill keys the saved definition lacks');

    saved.alter('db2', { port: 5435 });
    assert.equal(saved.get('db2').port, 5435, 'API over saved state');
    assert.deepEqual(saved.snapshot(10).servers.db2?.definition, { hostname: 'db2.example', role: 'replica', port: 5435 });
  });

  it('effective definition = defaults + explicit + name + status', () => {
    const db2 = make().get('db2');
    assert.deepEqual(db2, {
      ...DEFAULTS,
      pgconf: DEFAULTS.pgdata,
      hostname: 'db2.example',
      role: 'replica',
      port: 5433,
      name: 'db2',
      status: 'unknown',
      status_no: 0,
      status_ts: '',
      status_message: '',
    });
  });

  it('"empty means pgdata": pgconf resolves to pgdata unless set', () => {
    const r = make({ configServers: { a: { hostname: 'a', role: 'master', pgdata: '/data/a' }, b: { hostname: 'b', role: 'replica', pgconf: '/etc/pg' } } });
    assert.equal(r.get('a').pgconf, '/data/a');
    assert.equal(r.get('b').pgconf, '/etc/pg');
    assert.equal(r.snapshot(1).servers.a?.definition.pgconf, undefined, 'the resolution is a view, not persisted');
  });
});

describe('ServerRegistry: "the saved state is canonical unless override_server_file = true"', () => {
  const saved = savedState({
    db1: { definition: { hostname: 'moved.example', role: 'master' }, status: serverStatus('healthy', 'master responding to polling', 0) },
    db2: { definition: { hostname: 'db2.example', role: 'replica', port: 5433 }, status: serverStatus('down', 'verified down', 0) },
  }, { paused: true });

  it('saved state wins; config-only servers are ignored with a warning', () => {
    const r = make({ saved });
    assert.deepEqual(r.list().map((s) => s.name), ['db1', 'db2']);
    assert.equal(r.get('db1').hostname, 'moved.example');
    assert.equal(r.get('db2').status, 'down');
    assert.equal(r.has('pool'), false);
    for (const name of ['db3', 'pool', 'wal']) {
      assert.ok(
        r.warnings.includes(`server ${name} in the config is ignored because servers.save is canonical; use add_server or override_server_file`),
        name,
      );
    }
    assert.deepEqual(r.clusterStatus(), saved.cluster);
    assert.equal(r.getExtra('paused'), true);
  });

  it('override_server_file: config definitions, saved statuses kept, no warnings', () => {
    const r = make({ saved, overrideServerFile: true });
    assert.deepEqual(r.list().map((s) => s.name), ['db1', 'db2', 'db3', 'pool', 'wal']);
    assert.equal(r.get('db1').hostname, 'db1.example');
    assert.equal(r.get('db1').status, 'healthy');
    assert.equal(r.get('db2').status_message, 'verified down');
    assert.equal(r.get('pool').status, 'unknown');
    assert.deepEqual(r.warnings, []);
  });

  it('warns when two PostgreSQL definitions name the same host and port (the default port included)', () => {
    const r = make({ configServers: { ...CONFIG, db1_again: { hostname: 'db1.example', role: 'replica' } } });
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /^servers db1, db1_again all name the PostgreSQL at db1\.example:5432: /);
  });

  it('unusable definitions refuse to start, coded by source', () => {
    assert.throws(
      () => make({ configServers: { a: { role: 'master' } } }),
      (e: unknown) => e instanceof HandyRepError && e.code === ErrorCodes.CONFIG_INVALID && /server a: hostname is required/.test(e.message),
    );
    assert.throws(
      () => make({ saved: savedState({ a: { definition: { hostname: 'a', role: 'master', port: 'x' }, status: serverStatus('healthy', '', 0) } }) }),
      (e: unknown) => e instanceof HandyRepError && e.code === ErrorCodes.STATE_FILE && /server a: port/.test(e.message),
    );
    assert.throws(
      () => make({ configServers: { 'a b': { hostname: 'a', role: 'master' } } }),
      (e: unknown) => e instanceof HandyRepError && /server name 'a b'/.test(e.message),
    );
  });
});

describe('ServerRegistry: queries', () => {
  it('list in definition order; get throws UnknownServerError; has', () => {
    const r = make();
    assert.deepEqual(r.list().map((s) => s.name), ['db1', 'db2', 'db3', 'pool', 'wal']);
    assert.throws(() => r.get('nope'), UnknownServerError);
    assert.equal(r.has('db1'), true);
    assert.equal(r.has('nope'), false);
  });

  it('master, masters and byRole consider enabled servers only', () => {
    const r = make();
    assert.equal(r.master()?.name, 'db1');
    assert.deepEqual(r.byRole('replica').map((s) => s.name), ['db2']);
    assert.deepEqual(r.byRole('replica', 'pgbouncer').map((s) => s.name), ['db2', 'pool']);
    r.disable('db1');
    assert.equal(r.master(), undefined);
    assert.deepEqual(r.masters(), []);
  });

  it('two enabled masters (from the config): masters() names both, master() guesses neither', () => {
    const r = make({ configServers: { a: { hostname: 'a', role: 'master' }, b: { hostname: 'b', role: 'master' } } });
    assert.deepEqual(r.masters().map((s) => s.name), ['a', 'b']);
    assert.equal(r.master(), undefined);
    r.alter('a', { port: 5440 });
    assert.equal(r.get('a').port, 5440, 'an existing enabled master can still be altered');
  });

  it('returned definitions are copies', () => {
    const r = make();
    const db1 = r.get('db1');
    db1.hostname = 'changed';
    r.list()[0]!.port = 1;
    assert.equal(r.get('db1').hostname, 'db1.example');
    assert.equal(r.get('db1').port, 5432);
  });

  it('view(): a live read-only ServerView of frozen copies', () => {
    const r = make();
    const view: ServerView = r.view();
    const db1 = view.get('db1');
    assert.equal(Object.isFrozen(db1), true);
    assert.throws(() => {
      (db1 as { hostname: string }).hostname = 'x';
    }, TypeError);
    assert.equal(Object.isFrozen(view.list()), true);
    assert.equal(Object.isFrozen(view.list()[0]), true);
    assert.equal(view.master()?.name, 'db1');
    assert.deepEqual(view.byRole('replica').map((s) => s.name), ['db2']);
    assert.throws(() => view.get('nope'), UnknownServerError);
    r.alter('db2', { port: 6000 });
    assert.equal(view.get('db2').port, 6000, 'the view is live');
    assert.equal(view.has('db2'), true);
  });
});

describe('ServerRegistry: status', () => {
  it('setStatus stores consistent fields and announces the change once', () => {
    const r = make();
    const changes: RegistryChange[] = [];
    r.onChange((c) => changes.push(c));
    const healthy = serverStatus('healthy', 'ok', 1000);
    r.setStatus('db2', healthy);
    r.setStatus('db2', healthy);
    assert.deepEqual({ ...r.get('db2') }, { ...r.get('db2'), ...healthy });
    assert.deepEqual(changes, [{ kind: 'status', server: 'db2' }]);
    assert.equal(r.snapshot(1).servers.db2?.definition.status, undefined, '"never status keys" in definitions');
  });

  it('setStatus refuses unknown servers and inconsistent fields', () => {
    const r = make();
    const w = watched(r);
    assert.throws(() => r.setStatus('nope', serverStatus('healthy', '', 0)), UnknownServerError);
    assert.throws(() => r.setStatus('db2', { ...serverStatus('healthy', '', 0), status_no: 5 }), BadArgumentError);
    w.unchanged();
  });

  it('setClusterStatus / clusterStatus', () => {
    const r = make();
    assert.equal(r.clusterStatus().status, 'unknown');
    r.setClusterStatus(clusterStatus('healthy', 'cluster healthy', 0));
    assert.equal(r.clusterStatus().status_no, 1);
    assert.throws(() => r.setClusterStatus({ status: 'healthy', status_no: 2, status_ts: '', status_message: '' }), BadArgumentError);
  });
});

describe('ServerRegistry.alter (alter_server_def)', () => {
  it('"Settings may be changed to the existing value": allowed, no change announced', () => {
    const r = make();
    const w = watched(r);
    assert.equal(r.alter('db2', { hostname: 'db2.example', role: 'replica', port: 5433 }).port, 5433);
    assert.deepEqual(w.changes, []);
  });

  it('returns "the resulting new definition for the server" and announces it', () => {
    const r = make();
    const changes: RegistryChange[] = [];
    r.onChange((c) => changes.push(c));
    const def = r.alter('db2', { failover_priority: 1, hostname: 'new.example' });
    assert.equal(def.failover_priority, 1);
    assert.equal(def.hostname, 'new.example');
    assert.deepEqual(changes, [{ kind: 'definition', server: 'db2' }]);
  });

  it('a disabled replica may change role', () => {
    const r = make();
    assert.equal(r.alter('db3', { role: 'proxy' }).role, 'proxy');
  });

  const refusals: [spec: string, name: string, props: Record<string, unknown>, check: (e: unknown) => boolean][] = [
    ['unknown server → UnknownServerError', 'nope', { port: 1 }, (e) => e instanceof UnknownServerError],
    ['status keys are not settable', 'db2', { port: 1, status: 'healthy', status_no: 1 }, bad(/cannot set status, status_no/)],
    ['status_ts/status_message are not settable', 'db2', { status_ts: 'x', status_message: 'y' }, bad(/status_ts, status_message/)],
    ['name is not settable', 'db2', { name: 'other' }, bad(/cannot set name/)],
    ['role of an enabled master', 'db1', { role: 'replica' }, bad(/enabled master; disable it before changing its role/)],
    ['role of an enabled replica', 'db2', { role: 'master' }, bad(/enabled replica; disable it before changing its role/)],
    ['a second enabled master (enabled: true)', 'old', { enabled: true }, bad(/cannot make old an enabled master while db1/)],
    ['a second enabled master (role: master on a disabled server, then enabled)', 'db3', { role: 'master', enabled: true }, bad(/while db1 is the enabled master/)],
    ['a second enabled master (role change of an enabled proxy)', 'pool', { role: 'master' }, bad(/enabled master/)],
    ['hostname emptied', 'db2', { hostname: '' }, bad(/hostname is required/)],
    ['port not a port', 'db2', { port: 70000 }, bad(/port must be an integer/)],
    ['enabled not boolean', 'db3', { enabled: 'yes' }, bad(/enabled must be true or false/)],
    ['schema validator problems', 'db2', { lag_limit: -1 }, bad(/lag_limit must be >= 0/)],
    ['props not an object', 'db2', ['x'] as unknown as Record<string, unknown>, bad(/must be an object/)],
  ];
  for (const [spec, name, props, check] of refusals) {
    it(`refuses: ${spec}; nothing changes`, () => {
      const validateProps = lagLimitValidator;
      const r = make({ configServers: { ...CONFIG, old: { hostname: 'old.example', role: 'master', enabled: false } } }, { validateProps });
      const w = watched(r);
      assert.throws(() => r.alter(name, props), check);
      w.unchanged();
    });
  }

  it('the validator sees exactly the given properties', () => {
    const seen: Record<string, unknown>[] = [];
    const r = make({}, { validateProps: (p) => (seen.push({ ...p }), { converted: { ...p }, problems: [] }) });
    seen.length = 0; // the loaded definitions were checked at construction
    r.alter('db2', { port: 5999 });
    assert.deepEqual(seen, [{ port: 5999 }]);
  });
});

describe('ServerRegistry.add (add_server)', () => {
  it('"New servers are always added as disabled"; "role defaults to replica"; status unknown', () => {
    const r = make();
    const changes: RegistryChange[] = [];
    r.onChange((c) => changes.push(c));
    const def = r.add('db4', { hostname: 'db4.example', enabled: true, port: 5439 });
    assert.equal(def.enabled, false);
    assert.equal(def.role, 'replica');
    assert.equal(def.port, 5439);
    assert.equal(def.status, 'unknown');
    assert.equal(def.status_ts, '');
    assert.deepEqual(r.list().at(-1)?.name, 'db4');
    assert.deepEqual(changes, [{ kind: 'added', server: 'db4' }]);
    assert.deepEqual(r.snapshot(1).servers.db4?.definition, { hostname: 'db4.example', enabled: false, port: 5439, role: 'replica' });
  });

  it('a given role is kept, and a new master is allowed because it is disabled', () => {
    const r = make();
    assert.equal(r.add('m2', { hostname: 'm2', role: 'master' }).role, 'master');
    assert.throws(() => r.enable('m2'), bad(/enabled master/));
  });

  const names: string[] = ['a;rm -rf /', '../x', '', '-x', '_x', 'a b', 'a/b', 'a'.repeat(64), 'é'];
  for (const name of names) {
    it(`refuses the server name ${JSON.stringify(name)}; nothing changes`, () => {
      const r = make();
      const w = watched(r);
      assert.throws(() => r.add(name, { hostname: 'h' }), bad(/is not allowed/));
      w.unchanged();
    });
  }

  const refusals: [spec: string, name: string, props: Record<string, unknown>, fragment: RegExp][] = [
    ['"the hostname setting is required, and the new server will be rejected without it"', 'db9', { role: 'replica' }, /hostname is required/],
    ['an empty hostname', 'db9', { hostname: '' }, /hostname is required/],
    ['an existing name', 'db2', { hostname: 'h' }, /already exists/],
    ['status keys', 'db9', { hostname: 'h', status: 'healthy' }, /cannot set status/],
    ['name key', 'db9', { hostname: 'h', name: 'db9' }, /cannot set name/],
    ['a bad port', 'db9', { hostname: 'h', port: 0 }, /port must be/],
    ['schema validator problems', 'db9', { hostname: 'h', lag_limit: -1 }, /lag_limit must be >= 0/],
  ];
  for (const [spec, name, props, fragment] of refusals) {
    it(`refuses: ${spec}; nothing changes`, () => {
      const r = make({}, { validateProps: lagLimitValidator });
      const w = watched(r);
      assert.throws(() => r.add(name, props), bad(fragment));
      w.unchanged();
    });
  }

  it('the longest allowed name (63 characters) is accepted', () => {
    assert.equal(make().add('a'.repeat(63), { hostname: 'h' }).name, 'a'.repeat(63));
  });
});

describe('ServerRegistry.remove, enable, disable', () => {
  it('remove: "Delete the definition of a disabled server"', () => {
    const r = make();
    const changes: RegistryChange[] = [];
    r.onChange((c) => changes.push(c));
    r.remove('db3');
    assert.equal(r.has('db3'), false);
    assert.deepEqual(changes, [{ kind: 'removed', server: 'db3' }]);
  });

  it('remove: "the server definition is still enabled, so it can\'t be deleted"; nothing changes', () => {
    const r = make();
    const w = watched(r);
    assert.throws(() => r.remove('db2'), bad(/db2 is enabled; disable it before removing it/));
    assert.throws(() => r.remove('nope'), UnknownServerError);
    w.unchanged();
  });

  it('disable then enable; enable refuses a second master', () => {
    const r = make();
    assert.equal(r.disable('db2').enabled, false);
    assert.deepEqual(r.byRole('replica'), []);
    assert.equal(r.enable('db2').enabled, true);
    r.alter('db3', { role: 'master' });
    const w = watched(r);
    assert.throws(() => r.enable('db3'), bad(/while db1 is the enabled master/));
    w.unchanged();
    r.disable('db1');
    assert.equal(r.enable('db3').enabled, true);
    assert.equal(r.master()?.name, 'db3');
  });
});

describe('ServerRegistry.snapshot and changes', () => {
  it('snapshot: explicit definitions only, statuses, cluster, extra; a valid state', () => {
    let now = Date.UTC(2024, 4, 5, 6, 7, 8);
    const r = make({}, { now: () => now });
    r.setStatus('db1', serverStatus('healthy', 'ok', now));
    r.setExtra('paused', true);
    const s = r.snapshot(3);
    assert.equal(s.format, 1);
    assert.equal(s.generation, 3);
    assert.equal(s.updated_at, '2024-05-05T06:07:08.000Z');
    assert.deepEqual(Object.keys(s.servers), ['db1', 'db2', 'db3', 'pool', 'wal']);
    assert.deepEqual(s.servers.db1, { definition: { hostname: 'db1.example', role: 'master' }, status: serverStatus('healthy', 'ok', now) });
    assert.deepEqual(s.extra, { paused: true });
    assert.deepEqual(savedStateProblems(s), []);
    now += 1;
    assert.throws(() => r.snapshot(-1), BadArgumentError);
    const again = make({ saved: s });
    assert.deepEqual(again.list(), r.list(), 'a snapshot reloads to the same registry');
  });

  it('setExtra announces real changes only; undefined deletes', () => {
    const r = make();
    const changes: RegistryChange[] = [];
    const off = r.onChange((c) => changes.push(c));
    r.setExtra('journal', { step: 1 });
    r.setExtra('journal', { step: 1 });
    assert.deepEqual(r.getExtra('journal'), { step: 1 });
    r.setExtra('journal', undefined);
    assert.equal(r.getExtra('journal'), undefined);
    off();
    r.setExtra('x', 1);
    assert.deepEqual(changes, [
      { kind: 'extra', key: 'journal' },
      { kind: 'extra', key: 'journal' },
    ]);
  });

  it('a throwing listener does not undo the change or stop other listeners', () => {
    const errors: unknown[] = [];
    const r = make({}, { onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    r.onChange(() => {
      throw new Error('disk full');
    });
    r.onChange((c) => seen.push(c.kind));
    r.alter('db2', { port: 7000 });
    assert.equal(r.get('db2').port, 7000);
    assert.deepEqual(seen, ['definition']);
    assert.equal((errors[0] as Error).message, 'disk full');
  });
});
