import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_PLUGIN_KEYS } from '../config/core-schema.js';
import { definePlugin, ErrorCodes, PLUGIN_KINDS, success, TimeoutError } from '@handyrep/plugin-sdk';
import type { ClusterKind, PluginContext, PluginDeclaration, PluginKind, ServerDefinition } from '@handyrep/plugin-sdk';
import { MemoryLogger, staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import type { HandyRepConfig } from '../config/config-types.js';
import type { LoadedConfig, PluginReference } from '../config/load-config.js';
import { CLUSTER_KIND_KEYS, PluginHost } from './plugin-host.js';
import type { SharedCapabilities } from './plugin-host.js';

// Issue 12, item 7 (a core deadline around every plugin call) and the typed cluster(kind) lookup.

const NEVER = new Promise<never>(() => {});

interface Timeouts {
  plugin_timeout?: number;
  clone_timeout?: number;
  promotion_timeout?: number;
}

interface HostSetup {
  host: PluginHost;
  logs: Map<string, MemoryLogger>;
}

/** A host over in-memory declarations: `references` say which key names which plugin. */
async function makeHost(
  declarations: PluginDeclaration[],
  references: Omit<PluginReference, 'kind'>[],
  timeouts: Timeouts = {},
  servers: ServerDefinition[] = [],
): Promise<HostSetup> {
  const config = {
    handyrep: { plugin_timeout: timeouts.plugin_timeout ?? 0.05, clone_timeout: timeouts.clone_timeout ?? 0 },
    failover: { promotion_timeout: timeouts.promotion_timeout ?? 10 },
    plugins: {},
  } as unknown as HandyRepConfig;
  const byName = new Map(declarations.map((declaration) => [declaration.name, declaration]));
  const loaded: LoadedConfig = {
    file: '/nowhere/handyrep.conf',
    dir: '/nowhere',
    config,
    plugins: new Map(
      declarations.map((declaration) => [
        declaration.name,
        { configName: declaration.name, declaration, packageName: `test-${declaration.name}`, packageVersion: '0.0.0', entryPath: '/nowhere' },
      ]),
    ),
    references: references.map((ref) => ({ ...ref, kind: byName.get(ref.name)?.kind ?? 'poll' })),
  };
  const capabilities = { servers: staticServerView(servers) } as unknown as SharedCapabilities;
  const logs = new Map<string, MemoryLogger>();
  const host = new PluginHost(loaded, capabilities, (name) => {
    const logger = new MemoryLogger();
    logs.set(name, logger);
    return logger;
  });
  await host.createAll();
  return { host, logs };
}

function declare<K extends PluginKind>(kind: K, name: string, create: (context: PluginContext) => object): PluginDeclaration {
  return definePlugin({
    kind,
    name,
    description: `test ${kind} plugin`,
    configSchema: { type: 'object', properties: {}, additionalProperties: false },
    create: create as never,
  }) as unknown as PluginDeclaration;
}

async function rejectsWithin<T>(promise: Promise<T>, maxMs: number, check: (err: unknown) => boolean): Promise<number> {
  const started = Date.now();
  await assert.rejects(promise, check);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < maxMs, `rejected after ${elapsed} ms, expected under ${maxMs} ms`);
  return elapsed;
}

const isTimeout = (fragment: RegExp) => (err: unknown) =>
  err instanceof TimeoutError && err.code === ErrorCodes.TIMEOUT && fragment.test(err.message);

describe('PluginHost: a deadline around every plugin call', () => {
  it('a poll that never answers rejects with HR_TIMEOUT after plugin_timeout, naming plugin, method and seconds; a warning is logged', async () => {
    const { host, logs } = await makeHost([declare('poll', 'hung_poll', () => ({ poll: () => NEVER }))], [{ section: 'failover', key: 'poll_method', name: 'hung_poll' }], {
      plugin_timeout: 0.05,
    });
    const poll = host.cluster('poll');
    assert.ok(poll);
    const elapsed = await rejectsWithin(poll.poll('db1'), 2000, isTimeout(/plugin 'hung_poll' \(poll\): poll did not finish within 0\.05 s \(\[handyrep\] plugin_timeout\)/));
    assert.ok(elapsed >= 40, `rejected after ${elapsed} ms, before the deadline`);
    const warnings = logs.get('hung_poll')?.lines.filter((line) => line.level === 'warn') ?? [];
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /poll did not finish within 0\.05 s .*may still be running/);
  });

  it('a fast call passes through unchanged: same result object, arguments, `this`, and the plugin\'s own errors', async () => {
    const answer = success('accepting', { state: 'accepting' as const });
    const failure = new Error('plugin says no');
    class Control {
      readonly calls: unknown[][] = [];
      #secret = 'private state';
      async start(...args: unknown[]) {
        this.calls.push(args);
        return { ...answer, secret: this.#secret };
      }
      async stop() {
        throw failure;
      }
      async faststop() {
        return answer;
      }
      async restart() {
        return answer;
      }
      async reload() {
        return answer;
      }
      async status() {
        return { ...answer, running: true };
      }
      extra() {
        return this.#secret;
      }
    }
    const instance = new Control();
    const db1 = testServer({ name: 'db1', restart_method: 'ctl' });
    const { host } = await makeHost([declare('control', 'ctl', () => instance)], [{ section: 'servers.db1', key: 'restart_method', name: 'ctl' }], {}, [db1]);
    const control = host.forServer('control', 'db1') as unknown as Control;
    const started = await control.start('db1', 'extra-arg');
    assert.equal(started.secret, 'private state');
    assert.deepEqual(instance.calls, [['db1', 'extra-arg']]);
    assert.equal(await control.faststop(), answer);
    await assert.rejects(control.stop(), (err) => err === failure);
    // Other methods and properties are the instance's own.
    assert.equal(control.extra(), 'private state');
    assert.equal(control.calls, instance.calls);
    assert.ok(control instanceof Control);
  });

  it('wraps once per instance: every lookup hands out the same object; the plugin is created once', async () => {
    let created = 0;
    const { host } = await makeHost(
      [declare('alert', 'alerts', () => (created++, { send: async () => success('sent') }))],
      [{ section: 'handyrep', key: 'push_alert_method', name: 'alerts' }],
    );
    const first = host.cluster('alert');
    assert.ok(first);
    assert.equal(host.cluster('alert'), first);
    assert.equal(host.byKey('alert', 'handyrep', 'push_alert_method'), first);
    assert.equal(host.instanceOf('alert', 'alerts'), first);
    assert.equal(host.active('alert'), first);
    assert.equal(first.send, host.cluster('alert')?.send);
    assert.equal(created, 1);
  });

  it('keeps non-method properties: an hr_master plugin\'s sharedState is the instance\'s own object', async () => {
    const sharedState = { read: async () => undefined, write: async () => true };
    const instance = Object.freeze({ check: () => NEVER, sharedState });
    const { host } = await makeHost([declare('hr_master', 'elect', () => instance)], [{ section: 'handyrep', key: 'master_check_method', name: 'elect' }]);
    const plugin = host.cluster('hr_master');
    assert.ok(plugin);
    assert.equal(plugin.sharedState, sharedState);
    assert.deepEqual(Object.keys(plugin).sort(), ['check', 'sharedState']);
    // A frozen instance is still bounded.
    await rejectsWithin(plugin.check(), 2000, isTimeout(/plugin 'elect' \(hr_master\): check did not finish/));
  });

  it('a synchronous method (replica_selection select) stays synchronous', async () => {
    const selection = { ordered: ['db2'], reasons: {} };
    const { host } = await makeHost([declare('replica_selection', 'pick', () => ({ select: () => selection }))], [{ section: 'failover', key: 'selection_method', name: 'pick' }]);
    assert.equal(host.cluster('replica_selection')?.select([]), selection);
  });

  it('promotion uses [failover] promotion_timeout, not plugin_timeout', async () => {
    const db2 = testServer({ name: 'db2', promotion_method: 'slow_promote' });
    const { host } = await makeHost(
      [declare('promotion', 'slow_promote', () => ({ promote: () => NEVER }))],
      [{ section: 'servers.db2', key: 'promotion_method', name: 'slow_promote' }],
      { plugin_timeout: 30, promotion_timeout: 0.05 },
      [db2],
    );
    await rejectsWithin(
      host.forServer('promotion', 'db2').promote('db2'),
      2000,
      isTimeout(/plugin 'slow_promote' \(promotion\): promote did not finish within 0\.05 s \(\[failover\] promotion_timeout\)/),
    );
  });

  it('a promotion within promotion_timeout is not cut short by a smaller plugin_timeout', async () => {
    const db2 = testServer({ name: 'db2', promotion_method: 'promote' });
    const { host } = await makeHost(
      [declare('promotion', 'promote', () => ({ promote: () => new Promise((resolve) => setTimeout(() => resolve(success('promoted')), 100)) }))],
      [{ section: 'servers.db2', key: 'promotion_method', name: 'promote' }],
      { plugin_timeout: 0.02, promotion_timeout: 5 },
      [db2],
    );
    assert.equal((await host.forServer('promotion', 'db2').promote('db2')).result, 'SUCCESS');
  });

  it('clone and archive cleanup have no deadline by default (clone_timeout 0), and clone_timeout bounds clone and rewind when set', async () => {
    const db3 = testServer({ name: 'db3', clone_method: 'copier' });
    const declarations = [
      declare('clone', 'copier', () => ({ clone: () => NEVER, rewind: () => NEVER })),
      declare('archive_cleanup', 'sweeper', () => ({ cleanup: () => NEVER })),
    ];
    const references = [
      { section: 'servers.db3', key: 'clone_method', name: 'copier' },
      { section: 'archive', key: 'archive_delete_method', name: 'sweeper' },
    ];
    const unbounded = await makeHost(declarations, references, { plugin_timeout: 0.02 }, [db3]);
    const pending = Symbol('pending');
    const after = (ms: number) => new Promise<typeof pending>((resolve) => setTimeout(() => resolve(pending), ms));
    const request = { target: 'db3', source: 'db1', reclone: false };
    assert.equal(await Promise.race([unbounded.host.forServer('clone', 'db3').clone(request as never), after(150)]), pending);
    assert.equal(await Promise.race([unbounded.host.cluster('archive_cleanup')!.cleanup(), after(150)]), pending);

    const bounded = await makeHost(declarations, references, { plugin_timeout: 30, clone_timeout: 0.05 }, [db3]);
    const clone = bounded.host.forServer('clone', 'db3');
    await rejectsWithin(clone.clone(request as never), 2000, isTimeout(/clone did not finish within 0\.05 s \(\[handyrep\] clone_timeout\)/));
    await rejectsWithin(clone.rewind!(request as never), 2000, isTimeout(/rewind did not finish within 0\.05 s \(\[handyrep\] clone_timeout\)/));
    await rejectsWithin(bounded.host.cluster('archive_cleanup')!.cleanup(), 2000, isTimeout(/cleanup did not finish within 0\.05 s/));
  });

  it('a plugin looking up another through its context gets the bounded instance', async () => {
    let directory: PluginContext['plugins'] | undefined;
    const db1 = testServer({ name: 'db1', restart_method: 'ctl' });
    const hung = { start: () => NEVER, stop: () => NEVER, faststop: () => NEVER, restart: () => NEVER, reload: () => NEVER, status: () => NEVER };
    const { host } = await makeHost(
      [
        declare('control', 'ctl', () => hung),
        declare('fencing', 'fence', (context) => ((directory = context.plugins), { fence: async () => success('fenced') })),
      ],
      [
        { section: 'servers.db1', key: 'restart_method', name: 'ctl' },
        { section: 'failover', key: 'fencing_method', name: 'fence' },
      ],
      { plugin_timeout: 0.05 },
      [db1],
    );
    assert.equal(directory, host);
    assert.ok(directory);
    assert.equal(directory.cluster('fencing'), host.cluster('fencing'));
    await rejectsWithin(directory.forServer('control', 'db1').faststop('db1'), 2000, isTimeout(/plugin 'ctl' \(control\): faststop did not finish/));
  });

  it('closeAll closes the plugin\'s own instance', async () => {
    let closedOn: unknown;
    const instance = {
      poll: async () => success('ok'),
      async close(this: unknown) {
        closedOn = this;
      },
    };
    const { host } = await makeHost([declare('poll', 'p', () => instance)], [{ section: 'failover', key: 'poll_method', name: 'p' }]);
    host.cluster('poll');
    assert.deepEqual(await host.closeAll(), []);
    assert.equal(closedOn, instance);
  });
});

describe('PluginHost.cluster(kind)', () => {
  it('maps every cluster-wide kind to its one key in CLUSTER_PLUGIN_KEYS', () => {
    const clusterKinds = PLUGIN_KINDS.filter((kind) => !['control', 'promotion', 'clone'].includes(kind));
    assert.deepEqual(Object.keys(CLUSTER_KIND_KEYS).sort(), [...clusterKinds].sort());
    for (const [kind, { section, key }] of Object.entries(CLUSTER_KIND_KEYS)) {
      assert.equal(CLUSTER_PLUGIN_KEYS[`${section}.${key}` as keyof typeof CLUSTER_PLUGIN_KEYS], kind);
    }
    assert.equal(new Set(Object.values(CLUSTER_PLUGIN_KEYS)).size, Object.keys(CLUSTER_PLUGIN_KEYS).length);
  });

  it('finds the plugin its key names, undefined when none is configured; active agrees and is undefined for per-server kinds', async () => {
    const db1 = testServer({ name: 'db1', restart_method: 'ctl' });
    const ctl = { start: () => NEVER, stop: () => NEVER, faststop: () => NEVER, restart: () => NEVER, reload: () => NEVER, status: () => NEVER };
    const { host } = await makeHost(
      [declare('poll', 'pinger', () => ({ poll: async () => success('ok') })), declare('control', 'ctl', () => ctl)],
      [
        { section: 'failover', key: 'poll_method', name: 'pinger' },
        { section: 'servers.db1', key: 'restart_method', name: 'ctl' },
      ],
      {},
      [db1],
    );
    assert.equal(host.cluster('poll'), host.byKey('poll', 'failover', 'poll_method'));
    assert.ok(host.cluster('poll'));
    const none: ClusterKind[] = ['alert', 'fencing', 'replication_status', 'archive', 'archive_cleanup', 'hr_master', 'authentication', 'connection_failover', 'replica_selection'];
    for (const kind of none) assert.equal(host.cluster(kind), undefined, kind);
    assert.equal(host.active('poll'), host.cluster('poll'));
    assert.equal(host.active('control'), undefined);
  });
});
