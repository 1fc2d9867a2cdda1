import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import type { SqlRow } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { RecordedQuery, TestContext, TestServer } from '@handyrep/plugin-sdk/testing';
import type { MultiPgbouncerConfig } from './config.js';
import { MultiPgbouncer } from './multi-pgbouncer.js';
import type { RepointResult } from './multi-pgbouncer.js';

const PASSWORD = 'super-secret-pw';
const ADMIN_PASSWORD = 'admin-secret-pw';

const CONFIG: MultiPgbouncerConfig = {
  database_list: ['appdb'],
  readonly_suffix: '_ro',
  admin_method: 'sql',
  admin_user: 'pgb_admin',
  admin_password_key: 'pgbouncer_admin',
  pause_timeout_seconds: 2,
  on_pause_timeout: 'kill',
  failover_disconnect: 'kill',
  admin_timeout_seconds: 3,
  command_timeout_seconds: 10,
  psql_path: 'psql',
};

const healthy = { status: 'healthy', status_no: 1 } as const;
const SERVERS: TestServer[] = [
  { name: 'pg1', hostname: '10.0.0.1', role: 'master', ...healthy },
  { name: 'pg2', hostname: '10.0.0.2', role: 'replica', failover_priority: 1, ...healthy },
  { name: 'pg3', hostname: '10.0.0.3', role: 'replica', failover_priority: 2, ...healthy },
  { name: 'bouncer1', hostname: '10.0.0.11', role: 'pgbouncer', port: 6432, pgbouncer_databases_file: '/etc/pgbouncer/dbs.ini' },
  { name: 'proxy2', hostname: '10.0.0.12', role: 'proxy', port: 6432, pgbouncer_config: '' },
  { name: 'bouncer3', hostname: '10.0.0.13', role: 'pgbouncer', port: 6432, enabled: false },
];

/** Servers in recovery, by address: what a probe through a proxy finds. */
const IN_RECOVERY: Record<string, boolean> = { '10.0.0.1': false, '10.0.0.2': true, '10.0.0.3': true };

interface LiveRow {
  host: string;
  port: number;
  database: string;
  paused: number;
  disabled: number;
}

/** A pgbouncer behind FakeShell and FakeSql: the written file takes effect on RELOAD; admin commands change its state. */
class PretendBouncer {
  file = '';
  live = new Map<string, LiveRow>();
  readonly admin: string[] = [];
  /** Ignore the file on RELOAD (as without the %include line). */
  ignoreFile = false;
  /** PAUSE never finishes (a session-pooled client holds its server connection). */
  pauseHangs = false;
  /** Admin commands that fail, by prefix. */
  readonly failing = new Map<string, Error>();

  constructor(routes: Record<string, string> = { appdb: '10.0.0.1', appdb_ro: '10.0.0.2' }) {
    for (const [alias, host] of Object.entries(routes)) {
      this.live.set(alias, { host, port: 5432, database: alias.replace(/_ro$/, ''), paused: 0, disabled: 0 });
    }
  }

  answer(query: RecordedQuery): SqlRow[] | Error {
    if (query.target.database !== 'pgbouncer') return this.probe(query);
    const command = query.text;
    this.admin.push(command);
    for (const [prefix, error] of this.failing) if (command.startsWith(prefix)) return error;
    const [verb, name = ''] = command.split(' ');
    const db = this.live.get(name);
    switch (verb) {
      case 'SHOW':
        if (command === 'SHOW DATABASES') return [...this.live].map(([alias, row]) => ({ name: alias, ...row }));
        return [];
      case 'RELOAD':
        if (!this.ignoreFile) this.reload();
        return [];
      case 'PAUSE':
        if (!db) return new HandyRepError(ErrorCodes.SQL, `no such database: ${name}`);
        db.paused = 1;
        return this.pauseHangs ? new TimeoutError('statement got no answer') : [];
      case 'KILL':
        if (!db) return new HandyRepError(ErrorCodes.SQL, `no such database: ${name}`);
        db.paused = 1;
        return [];
      case 'RESUME':
        if (!db) return new HandyRepError(ErrorCodes.SQL, `no such database: ${name}`);
        if (db.paused === 0) return new HandyRepError(ErrorCodes.SQL, `database ${name} is not paused (SQLSTATE 08P01)`);
        db.paused = 0;
        return [];
      case 'DISABLE':
      case 'ENABLE':
        if (!db) return new HandyRepError(ErrorCodes.SQL, `no such database: ${name}`);
        db.disabled = verb === 'DISABLE' ? 1 : 0;
        return [];
      case 'RECONNECT':
        return [];
      default:
        return new HandyRepError(ErrorCodes.SQL, `unknown command ${command}`);
    }
  }

  private probe(query: RecordedQuery): SqlRow[] | Error {
    const db = this.live.get(query.target.database ?? '');
    if (!db) return new HandyRepError(ErrorCodes.SQL, 'no such database');
    return [{ in_recovery: IN_RECOVERY[db.host] ?? false }];
  }

  private reload(): void {
    const next = new Map<string, LiveRow>();
    for (const line of this.file.split('\n')) {
      const match = /^(\w+) = host=(\S+) port=(\d+) dbname=(\w+)$/.exec(line);
      if (!match) continue;
      const [, alias = '', host = '', port = '', database = ''] = match;
      const old = this.live.get(alias);
      next.set(alias, { host, port: Number(port), database, paused: old?.paused ?? 0, disabled: old?.disabled ?? 0 });
    }
    this.live = next;
  }
}

interface Rig {
  plugin: MultiPgbouncer;
  kit: TestContext<MultiPgbouncerConfig>;
  bouncers: Record<string, PretendBouncer>;
}

function rig(config: Partial<MultiPgbouncerConfig> = {}, servers: TestServer[] = SERVERS): Rig {
  const kit = createTestContext<MultiPgbouncerConfig>({
    name: 'multi_pgbouncer',
    config: { ...CONFIG, ...config },
    servers,
    secrets: { superuser_password: PASSWORD, pgbouncer_admin: ADMIN_PASSWORD },
    settings: { handyrep: { postgres_superuser: 'postgres' } },
  });
  const bouncers: Record<string, PretendBouncer> = { bouncer1: new PretendBouncer(), proxy2: new PretendBouncer(), bouncer3: new PretendBouncer() };
  kit.sql.respond((query) => bouncers[query.target.server]?.answer(query));
  kit.shell.respond((command) => {
    const bouncer = bouncers[command.server];
    if (command.file && bouncer) bouncer.file = command.file.content;
    return undefined;
  });
  return { plugin: new MultiPgbouncer(kit.context), kit, bouncers };
}

function noSecrets(kit: TestContext<MultiPgbouncerConfig>, result: unknown): void {
  for (const secret of [PASSWORD, ADMIN_PASSWORD]) {
    assert.ok(!JSON.stringify(result).includes(secret), 'no password in the result');
    assert.ok(!kit.logger.text().includes(secret), 'no password in the log');
    for (const command of kit.shell.commands) assert.ok(!command.command.includes(secret) && !(command.file?.content ?? '').includes(secret));
  }
}

describe('multi_pgbouncer init', () => {
  it('checks the %include line, writes the file to every enabled proxy, RELOADs and confirms the routing', async () => {
    const { plugin, kit, bouncers } = rig();
    const result = await plugin.init();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.master, 'pg1');
    assert.equal(result.readonly_target, 'pg2');
    assert.deepEqual(Object.keys(result.proxies).sort(), ['bouncer1', 'proxy2'], 'the disabled proxy is left alone');
    assert.equal(bouncers['bouncer3']?.admin.length, 0);
    const writes = kit.shell.commands.filter((c) => c.file);
    assert.deepEqual(writes.map((c) => [c.server, c.file?.path, c.file?.mode]).sort(), [
      ['bouncer1', '/etc/pgbouncer/dbs.ini', 0o644],
      ['proxy2', '/etc/pgbouncer/handyrep-databases.ini', 0o644],
    ]);
    const checks = kit.shell.commands.filter((c) => /grep/.test(c.command));
    assert.deepEqual(checks.map((c) => c.server), ['bouncer1'], 'pgbouncer_config = "" skips the check');
    assert.match(checks[0]?.command ?? '', /%include\[\[:space:\]\]\+\/etc\/pgbouncer\/dbs\\\.ini.* \/etc\/pgbouncer\/pgbouncer\.ini$/);
    assert.match(bouncers['bouncer1']?.file ?? '', /^appdb = host=10\.0\.0\.1 port=5432 dbname=appdb$/m);
    assert.match(bouncers['bouncer1']?.file ?? '', /^appdb_ro = host=10\.0\.0\.2 port=5432 dbname=appdb$/m);
    // Nothing changed (the pretend proxies already routed there): no KILL, no RESUME.
    assert.deepEqual(bouncers['bouncer1']?.admin, ['SHOW DATABASES', 'RELOAD', 'SHOW DATABASES']);
    const adminQuery = kit.sql.queries.find((q) => q.text === 'RELOAD' && q.target.server === 'bouncer1');
    assert.deepEqual(adminQuery?.target, { server: 'bouncer1', database: 'pgbouncer', connectTimeoutMs: 3000, statementTimeoutMs: 3000, user: 'pgb_admin', passwordKey: 'pgbouncer_admin' });
    assert.deepEqual(adminQuery?.params, []);
    noSecrets(kit, result);
  });

  it('a changed target is DISABLEd, KILLed, RESUMEd and ENABLEd, so clients leave the old server at once', async () => {
    const { plugin, bouncers } = rig();
    bouncers['bouncer1'] = new PretendBouncer({ appdb: '10.0.0.9', appdb_ro: '10.0.0.2' });
    const result = await plugin.init();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(bouncers['bouncer1']?.admin.slice(3), ['DISABLE appdb', 'KILL appdb', 'RESUME appdb', 'ENABLE appdb']);
    assert.match(result.proxies['bouncer1']?.databases['appdb'] ?? '', /was 10\.0\.0\.9:5432\/appdb\), connections killed, resumed/);
    assert.deepEqual(bouncers['bouncer1']?.live.get('appdb'), { host: '10.0.0.1', port: 5432, database: 'appdb', paused: 0, disabled: 0 });
  });

  it('without the %include line nothing is written and the proxy FAILs with the line to add', async () => {
    const { plugin, kit, bouncers } = rig();
    kit.shell.respond((command) => (command.server === 'bouncer1' && /grep/.test(command.command) ? { exitCode: 1 } : undefined));
    const result = await plugin.init();
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /could not repoint bouncer1 \(\/etc\/pgbouncer\/pgbouncer\.ini lacks the line '%include \/etc\/pgbouncer\/dbs\.ini'.*nothing written\)/);
    assert.equal(result.proxies['proxy2']?.result, 'SUCCESS', 'the other proxy is still done');
    assert.equal(bouncers['bouncer1']?.file, '');
    assert.deepEqual(bouncers['bouncer1']?.admin, []);
  });

  it('a RELOAD that does not change the routing is a FAIL naming the include line, and nothing is resumed', async () => {
    const { plugin, bouncers } = rig();
    bouncers['proxy2'] = new PretendBouncer({ appdb: '10.0.0.9' });
    bouncers['proxy2'].ignoreFile = true;
    const result = await plugin.failover('pg2');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /could not repoint proxy2 \(after RELOAD pgbouncer does not route as written: appdb goes to 10\.0\.0\.9:5432\/appdb, not 10\.0\.0\.2:5432\/appdb; appdb_ro goes to absent.*is '%include \/etc\/pgbouncer\/handyrep-databases\.ini' in pgbouncer\.ini\?/);
    assert.ok(!bouncers['proxy2'].admin.some((c) => c.startsWith('RESUME')));
  });

  it('no master: FAIL, nothing run', async () => {
    const { plugin, kit } = rig({}, SERVERS.filter((s) => s.name !== 'pg1'));
    const result = await plugin.init();
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /no enabled master/);
    assert.equal(kit.shell.commands.length + kit.sql.queries.length, 0);
  });
});

describe('multi_pgbouncer pause', () => {
  it('PAUSEs the read-write databases on every proxy; a read-only one routed to a replica is left alone', async () => {
    const { plugin, kit, bouncers } = rig();
    const result = await plugin.pause();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(bouncers['bouncer1']?.admin, ['SHOW DATABASES', 'PAUSE appdb']);
    assert.equal(result.proxies['bouncer1']?.databases['appdb'], 'paused');
    assert.match(result.proxies['bouncer1']?.databases['appdb_ro'] ?? '', /not paused: routes to 10\.0\.0\.2/);
    const pause = kit.sql.queries.find((q) => q.text === 'PAUSE appdb');
    assert.equal(pause?.target.statementTimeoutMs, 2000, 'PAUSE is bounded by pause_timeout_seconds');
  });

  it('a read-only alias routed to the master is paused too', async () => {
    const { plugin, bouncers } = rig();
    bouncers['bouncer1'] = new PretendBouncer({ appdb: '10.0.0.1', appdb_ro: '10.0.0.1' });
    await plugin.pause();
    assert.deepEqual(bouncers['bouncer1']?.admin.slice(1).sort(), ['PAUSE appdb', 'PAUSE appdb_ro']);
  });

  it('a PAUSE that does not finish in time becomes a KILL; with on_pause_timeout = fail it is a FAIL', async () => {
    const killing = rig();
    for (const b of Object.values(killing.bouncers)) b.pauseHangs = true;
    const killed = await killing.plugin.pause();
    assert.equal(killed.result, 'SUCCESS', killed.details);
    assert.deepEqual(killing.bouncers['bouncer1']?.admin, ['SHOW DATABASES', 'PAUSE appdb', 'KILL appdb']);
    assert.match(killed.proxies['bouncer1']?.databases['appdb'] ?? '', /^killed: PAUSE waited 2 s/);

    const failing = rig({ on_pause_timeout: 'fail' });
    for (const b of Object.values(failing.bouncers)) b.pauseHangs = true;
    const failed = await failing.plugin.pause();
    assert.equal(failed.result, 'FAIL');
    assert.match(failed.details, /pause failed on bouncer1 \(could not pause appdb: PAUSE waited 2 s.*still pausing/);
    assert.ok(!failing.bouncers['bouncer1']?.admin.includes('KILL appdb'));
  });

  it('a proxy whose console does not answer is a FAIL naming it; the others are paused', async () => {
    const { plugin, bouncers } = rig();
    bouncers['proxy2']?.failing.set('SHOW', new TimeoutError('connecting to server proxy2 timed out after 3000 ms'));
    const result = await plugin.pause();
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /pause failed on proxy2 \(admin console does not answer: HR_TIMEOUT: connecting to server proxy2 timed out.*paused on bouncer1 \(call resume\(\)/);
  });
});

describe('multi_pgbouncer failover', () => {
  it('repoints every proxy at the new master and the read-only alias at the best other replica, then resumes', async () => {
    const { plugin, kit, bouncers } = rig();
    await plugin.pause();
    const result = (await plugin.failover('pg2')) as RepointResult;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.master, 'pg2');
    assert.equal(result.readonly_target, 'pg3');
    for (const name of ['bouncer1', 'proxy2']) {
      const b = bouncers[name];
      assert.deepEqual(b?.live.get('appdb'), { host: '10.0.0.2', port: 5432, database: 'appdb', paused: 0, disabled: 0 }, name);
      assert.deepEqual(b?.live.get('appdb_ro'), { host: '10.0.0.3', port: 5432, database: 'appdb', paused: 0, disabled: 0 }, name);
      const afterPause = b?.admin.slice(b.admin.indexOf('RELOAD')) ?? [];
      assert.deepEqual(afterPause.slice(0, 2), ['RELOAD', 'SHOW DATABASES']);
      const appdb = afterPause.filter((c) => c.endsWith(' appdb'));
      assert.deepEqual(appdb, ['DISABLE appdb', 'KILL appdb', 'RESUME appdb', 'ENABLE appdb'], name);
    }
    assert.equal(kit.shell.commands.filter((c) => /grep/.test(c.command)).length, 0, 'failover does not re-check the include line');
    assert.match(result.details, /repointed bouncer1, proxy2 at pg2 \(read-only: pg3\)/);
    noSecrets(kit, result);
  });

  it('FAILs naming the proxy that could not be written; that proxy is not reloaded or resumed, the other one is switched', async () => {
    const { plugin, kit, bouncers } = rig();
    kit.shell.respond((command) =>
      command.server === 'proxy2' && command.file ? new HandyRepError(ErrorCodes.SSH_CONNECT, 'cannot connect to ssh on 10.0.0.12:22') : undefined,
    );
    await plugin.pause();
    const result = await plugin.failover('pg2');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /^could not repoint proxy2 \(could not write \/etc\/pgbouncer\/handyrep-databases\.ini: HR_SSH_CONNECT: cannot connect to ssh/);
    assert.match(result.details, /repointed bouncer1 at pg2/);
    assert.equal(result.proxies['bouncer1']?.result, 'SUCCESS');
    assert.ok(!bouncers['proxy2']?.admin.includes('RELOAD'));
    assert.equal(bouncers['proxy2']?.live.get('appdb')?.paused, 1, 'its clients keep waiting instead of reaching the old master');
  });

  it('refuses an unknown server, a proxy and a hostile hostname before anything runs', async () => {
    const hostile = SERVERS.map((s) => (s.name === 'pg3' ? { ...s, hostname: '10.0.0.3 dbname=other' } : s));
    for (const [target, servers, reason] of [
      ['nosuch', SERVERS, /unknown server 'nosuch'/],
      ['bouncer1', SERVERS, /role pgbouncer and cannot be the master/],
      ['pg3', hostile, /hostname '10\.0\.0\.3 dbname=other' cannot be written/],
      ['', SERVERS, /needs the name of the new master/],
    ] as const) {
      const { plugin, kit } = rig({}, [...servers]);
      const result = await plugin.failover(target);
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, reason);
      assert.deepEqual(result.proxies, {});
      assert.equal(kit.shell.commands.length + kit.sql.queries.length, 0, `nothing ran for '${target}'`);
    }
  });

  it('failover_disconnect = reconnect sends RECONNECT, then RESUME, and no KILL', async () => {
    const { plugin, bouncers } = rig({ failover_disconnect: 'reconnect' });
    await plugin.pause();
    const result = await plugin.failover('pg2');
    assert.equal(result.result, 'SUCCESS', result.details);
    const commands = bouncers['bouncer1']?.admin ?? [];
    assert.ok(commands.includes('RECONNECT appdb') && commands.includes('RESUME appdb'));
    assert.ok(!commands.some((c) => /^(KILL|DISABLE)/.test(c)));
  });

  it('an ENABLE that fails is reported: the database would refuse new clients', async () => {
    const { plugin, bouncers } = rig();
    bouncers['bouncer1']?.failing.set('ENABLE', new HandyRepError(ErrorCodes.SQL, 'connection lost'));
    const result = await plugin.failover('pg2');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /appdb: .*ENABLE failed, new clients are still refused/);
  });
});

describe('multi_pgbouncer resume and poll', () => {
  it('resume RESUMEs every database; "not paused" is fine', async () => {
    const { plugin, bouncers } = rig();
    await plugin.pause();
    const result = await plugin.resume();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.proxies['bouncer1']?.databases['appdb'], 'resumed');
    assert.equal(result.proxies['bouncer1']?.databases['appdb_ro'], 'was not paused');
    assert.equal(bouncers['bouncer1']?.live.get('appdb')?.paused, 0);
    bouncers['proxy2']?.failing.set('RESUME', new HandyRepError(ErrorCodes.SQL, 'server closed the connection'));
    const failed = await plugin.resume();
    assert.equal(failed.result, 'FAIL');
    assert.match(failed.details, /resume failed on proxy2/);
  });

  it('poll connects through every proxy to every alias as the superuser: SUCCESS when read-write reaches a master', async () => {
    const { plugin, kit } = rig();
    const result = await plugin.poll();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.proxies['bouncer1']?.databases['appdb'], 'ok: 10.0.0.1:5432/appdb (master)');
    assert.equal(result.proxies['bouncer1']?.databases['appdb_ro'], 'ok: 10.0.0.2:5432/appdb (replica)');
    const probe = kit.sql.queries.find((q) => q.target.database === 'appdb');
    assert.deepEqual(probe?.target, { server: 'bouncer1', database: 'appdb', connectTimeoutMs: 3000, statementTimeoutMs: 3000 });
    assert.equal(probe?.text, 'SELECT pg_is_in_recovery() AS in_recovery');
  });

  it('poll FAILs for a read-write alias reaching a replica, a paused alias and a missing one', async () => {
    const { plugin, bouncers } = rig();
    bouncers['bouncer1'] = new PretendBouncer({ appdb: '10.0.0.3' });
    await plugin.pause();
    bouncers['proxy2'] = new PretendBouncer({ appdb: '10.0.0.2', appdb_ro: '10.0.0.3' });
    const result = await plugin.poll();
    assert.equal(result.result, 'FAIL');
    assert.match(result.proxies['bouncer1']?.details ?? '', /appdb: paused \(routes to 10\.0\.0\.3:5432\/appdb\); appdb_ro: absent on this proxy \(run init\)/);
    assert.match(result.proxies['proxy2']?.details ?? '', /appdb: reaches 10\.0\.0\.2:5432\/appdb, which is in recovery/);
  });

  it('the SQL client refused by a default pgbouncer gets a hint', async () => {
    const { plugin, bouncers } = rig();
    bouncers['bouncer1']?.failing.set('SHOW', new HandyRepError(ErrorCodes.SQL, 'server bouncer1: unsupported startup parameter: statement_timeout (SQLSTATE 08P01)'));
    const result = await plugin.poll();
    assert.match(result.proxies['bouncer1']?.details ?? '', /add it to ignore_startup_parameters in pgbouncer\.ini, or set admin_method = psql/);
  });

  it('no enabled proxy: SUCCESS, nothing to do', async () => {
    const { plugin, kit } = rig({}, SERVERS.filter((s) => !['bouncer1', 'proxy2'].includes(s.name)));
    for (const result of [await plugin.init(), await plugin.pause(), await plugin.failover('pg2'), await plugin.resume(), await plugin.poll()]) {
      assert.equal(result.result, 'SUCCESS');
      assert.match(result.details, /no enabled pgbouncer or proxy server/);
    }
    assert.equal(kit.shell.commands.length + kit.sql.queries.length, 0);
  });

  it('a hostile database name stops the plugin from being created', () => {
    const { kit } = rig();
    assert.throws(() => new MultiPgbouncer({ ...kit.context, config: { ...CONFIG, database_list: ['appdb; rm -rf /'] } }), { code: 'HR_BAD_ARGUMENT' });
  });
});
