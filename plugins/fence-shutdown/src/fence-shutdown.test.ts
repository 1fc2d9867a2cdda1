import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, fail, HandyRepError, success, TimeoutError } from '@handyrep/plugin-sdk';
import type { ControlPlugin, ControlResult, FencingPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { FenceShutdownConfig } from './config.js';
import { plugin } from './plugin.js';

/** Shell commands other than the cheap "is the postmaster stopped?" probe run before every stop. */
function killCommands<C extends { command: string }>(shell: { commands: C[] }): C[] {
  return shell.commands.filter((command) => !command.command.startsWith('pid=$(head -n 1'));
}

const CONFIG: FenceShutdownConfig = { stop_timeout_ms: 200, confirm_timeout_ms: 5_000, confirm_interval_ms: 250, check_timeout_ms: 1_000, kill_hung_postmaster: true };
const PGDATA = "/var/lib/postgresql/15/it's main";
const PASSWORD = 'pw-that-must-not-leak';

/** A control plugin whose stop and status behave as a test says. */
class FakeControl implements ControlPlugin {
  running = true;
  readonly calls: string[] = [];
  faststopBehaviour: () => Promise<ControlResult> = async () => {
    this.running = false;
    return success('pg_ctl stop -m immediate', { exit_code: 0 });
  };
  statusBehaviour: () => Promise<ControlResult & { running: boolean }> = async () => success('pg_ctl status', { running: this.running });

  faststop(server: string): Promise<ControlResult> {
    this.calls.push(`faststop ${server}`);
    return this.faststopBehaviour();
  }
  status(server: string): Promise<ControlResult & { running: boolean }> {
    this.calls.push(`status ${server}`);
    return this.statusBehaviour();
  }
  start = this.unexpected;
  stop = this.unexpected;
  restart = this.unexpected;
  reload = this.unexpected;
  private async unexpected(): Promise<ControlResult> {
    throw new Error('fencing must only use faststop and status');
  }
}

function sqlError(message: string, shape: { errno?: string; sqlState?: string } = {}): Error {
  const cause = shape.errno === undefined ? undefined : Object.assign(new Error(`connect ${shape.errno}`), { code: shape.errno });
  const err = new HandyRepError(ErrorCodes.SQL, message, cause === undefined ? undefined : { cause });
  return shape.sqlState === undefined ? err : Object.assign(err, { sqlState: shape.sqlState });
}
const refused = (): Error => sqlError('cannot connect to server db1 (postgres@10.0.0.1:5432/postgres): connect ECONNREFUSED 10.0.0.1:5432', { errno: 'ECONNREFUSED' });
const timedOut = (): Error => new TimeoutError('connecting to server db1 (postgres@10.0.0.1:5432/postgres) timed out after 1000 ms');
const sshDown = (): Error => new HandyRepError(ErrorCodes.SSH_CONNECT, 'cannot connect to ssh on postgres@10.0.0.1:22: connect ECONNREFUSED 10.0.0.1:22');

interface Setup {
  fence: FencingPlugin;
  control: FakeControl;
  kit: TestContext<FenceShutdownConfig>;
}

async function setup(options: { withControl?: boolean; config?: Partial<FenceShutdownConfig> } = {}): Promise<Setup> {
  const control = new FakeControl();
  const kit = createTestContext<FenceShutdownConfig>({
    name: 'fence_shutdown',
    config: { ...CONFIG, ...options.config },
    servers: [
      { name: 'db1', hostname: '10.0.0.1', role: 'master', pgdata: PGDATA },
      { name: 'db2', hostname: '10.0.0.2', role: 'replica' },
    ],
    secrets: { superuser_password: PASSWORD },
    plugins: { perServer: options.withControl === false ? {} : { 'control:db1': control } },
  });
  // The port follows the fake postmaster unless a test says otherwise.
  kit.sql.respond(() => (control.running ? [{ '?column?': 1 }] : refused()));
  const fence = await plugin.create(kit.context);
  return { fence, control, kit };
}

function assertNoSecret(kit: TestContext<FenceShutdownConfig>, details: string): void {
  assert.ok(!details.includes(PASSWORD));
  assert.ok(!kit.logger.text().includes(PASSWORD));
}

describe('fence_shutdown', () => {
  it('stops a running master and confirms it: SUCCESS, fenced true', async () => {
    const { fence, control, kit } = await setup();
    const result = await fence.fence('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.fenced, true);
    assert.match(result.details, /postmaster not running/);
    assert.match(result.details, /refuses connections/);
    assert.match(result.details, /immediate stop succeeded/);
    assert.deepEqual(control.calls, ['faststop db1', 'status db1']);
    assertNoSecret(kit, result.details);
  });

  it('probes the server with the configured check time-out', async () => {
    const { fence, kit } = await setup();
    await fence.fence('db1');
    assert.equal(kit.sql.queries.length, 1);
    const target = kit.sql.queries[0]?.target;
    assert.equal(target?.server, 'db1');
    assert.equal(target?.connectTimeoutMs, CONFIG.check_timeout_ms);
    assert.equal(target?.statementTimeoutMs, CONFIG.check_timeout_ms);
  });

  it('a server already down (stop fails, status not running, port refused) is fenced', async () => {
    const { fence, control } = await setup();
    control.running = false;
    control.faststopBehaviour = async () => fail('pg_ctl: PID file does not exist', { exit_code: 1, stderr: 'pg_ctl: PID file does not exist' });
    const result = await fence.fence('db1');
    assert.equal(result.fenced, true, result.details);
    assert.match(result.details, /immediate stop failed.*exit code 1/);
  });

  it('a killed postmaster that its control plugin still calls running (a zombie) is fenced in the first round, from /proc', async () => {
    const { fence, control, kit } = await setup();
    // pg_ctl's kill(pid, 0) passes for a zombie: the control plugin keeps saying running while the port refuses.
    control.faststopBehaviour = async () => fail('pg_ctl: server does not shut down', { exit_code: 1 });
    control.statusBehaviour = async () => success('db1 is running (PID 4242)', { running: true });
    kit.sql.respond(() => refused());
    kit.shell.respond((command) => (command.command.startsWith('pid=$(head -n 1') ? { stdout: 'postmaster_pid 4242\npostmaster_state Z\n' } : undefined));
    kit.shell.respond((command) => (command.command.includes('outcome') ? { stdout: 'pid 4242\noutcome not_running\n' } : undefined));
    const started = performance.now();
    const result = await fence.fence('db1');
    assert.equal(result.fenced, true, result.details);
    assert.ok(performance.now() - started < CONFIG.confirm_interval_ms, 'no second round of checks');
    assert.match(result.details, /postmaster PID 4242 \(postmaster\.pid\) is a zombie: dead, not yet reaped by its parent \(the control plugin said: postmaster running/);
  });

  it('the control plugin\'s "running" stands when /proc shows the postmaster alive, or cannot be read', async () => {
    for (const stdout of ['postmaster_pid 4242\npostmaster_state S\n', '']) {
      const { fence, control, kit } = await setup({ config: { confirm_timeout_ms: 300, kill_hung_postmaster: false } });
      control.faststopBehaviour = async () => fail('pg_ctl: server does not shut down', { exit_code: 1 });
      control.statusBehaviour = async () => success('db1 is running (PID 4242)', { running: true });
      kit.sql.respond(() => refused());
      kit.shell.respond((command) => (command.command.startsWith('pid=$(head -n 1') ? { stdout } : undefined));
      const result = await fence.fence('db1');
      assert.equal(result.fenced, false, result.details);
      assert.match(result.details, /postmaster still running/);
    }
  });

  it('waits through a slow shutdown ("shutting down", then refused) and succeeds', async () => {
    const { fence, control, kit } = await setup();
    let rounds = 0;
    control.faststopBehaviour = async () => fail('pg_ctl: server does not shut down', { exit_code: 1 });
    control.statusBehaviour = async () => success('', { running: rounds < 3 });
    kit.sql.respond(() => (++rounds < 3 ? sqlError('the database system is shutting down', { sqlState: '57P03' }) : refused()));
    const result = await fence.fence('db1');
    assert.equal(result.fenced, true, result.details);
    assert.equal(kit.sql.queries.length, 3);
  });

  it('SSH down and the server still answers: FAIL at once, fenced false, "still accepting connections"', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => {
      throw sshDown();
    };
    control.statusBehaviour = async () => {
      throw sshDown();
    };
    const before = kit.clock.now();
    const result = await fence.fence('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.fenced, false);
    assert.match(result.details, /still accepting connections on 10\.0\.0\.1:5432/);
    assert.match(result.details, /cannot connect to ssh/);
    // The stop never reached the host: no point in waiting for the confirmation window.
    assert.equal(kit.sql.queries.length, 1);
    assert.equal(kit.clock.now(), before);
    assertNoSecret(kit, result.details);
  });

  it('a control plugin that reports SSH errors as FAIL with error_code counts as "never reached the host" too', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => fail('faststop on db1: cannot connect to ssh', { error_code: ErrorCodes.SSH_CONNECT });
    control.statusBehaviour = async () => fail('status on db1: cannot connect to ssh', { running: false, error_code: ErrorCodes.SSH_CONNECT });
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /still accepting connections/);
    assert.match(result.details, /status failed: status on db1: cannot connect to ssh/);
    assert.equal(kit.sql.queries.length, 1);
  });

  it('SSH down and the port refuses on a reachable host: fenced true', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => {
      throw sshDown();
    };
    control.statusBehaviour = async () => {
      throw sshDown();
    };
    kit.sql.respond(() => refused());
    const result = await fence.fence('db1');
    assert.equal(result.fenced, true, result.details);
    assert.match(result.details, /port refuses connections/);
  });

  it('SSH down and the port times out: FAIL, "state unknown: host unreachable"', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => {
      throw sshDown();
    };
    control.statusBehaviour = async () => {
      throw sshDown();
    };
    kit.sql.respond(() => timedOut());
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /state unknown: host unreachable/);
  });

  it('a time-out is not a confirmation: control plugin failing and port silent for the whole window → FAIL', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => {
      throw new TimeoutError('ssh command timed out');
    };
    control.statusBehaviour = async () => fail('ssh command timed out', { running: false });
    kit.sql.respond(() => timedOut());
    const before = kit.clock.now();
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /state unknown: host unreachable/);
    // The stop may have got through, so the whole confirmation window was used.
    assert.ok(kit.clock.now() - before >= CONFIG.confirm_timeout_ms);
    assert.ok(kit.sql.queries.length > 2);
  });

  it('hung server (SIGSTOP) without kill_hung_postmaster: stop gives no answer, postmaster still there, port silent → FAIL fenced false', async () => {
    const { fence, control, kit } = await setup({ config: { confirm_timeout_ms: 1_000, kill_hung_postmaster: false } });
    control.faststopBehaviour = () => new Promise<ControlResult>(() => undefined);
    kit.sql.respond(() => timedOut());
    const started = performance.now();
    const result = await fence.fence('db1');
    assert.ok(performance.now() - started < 2_000, 'the stop is bounded by stop_timeout_ms');
    assert.equal(result.fenced, false);
    assert.match(result.details, /postmaster still running but does not answer \(hung\?\)/);
    assert.match(result.details, /faststop gave no answer within 200 ms/);
    assert.equal(killCommands(kit.shell).length, 0, 'nothing killed');
  });

  it('a status call that hangs is bounded and counts as unknown', async () => {
    const { fence, control, kit } = await setup({ config: { check_timeout_ms: 100, confirm_timeout_ms: 0 } });
    control.statusBehaviour = () => new Promise(() => undefined);
    kit.sql.respond(() => timedOut());
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /status gave no answer within 100 ms/);
  });

  it('stop "succeeded" but the port still accepts (wrong data directory?): FAIL after the window', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => success('stopped', { exit_code: 0 });
    control.statusBehaviour = async () => success('', { running: false });
    kit.sql.respond(() => [{ '?column?': 1 }]);
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /still accepting connections/);
  });

  it('a server that answers with an authentication error is still accepting connections', async () => {
    const { fence, control, kit } = await setup({ config: { confirm_timeout_ms: 0 } });
    control.statusBehaviour = async () => success('', { running: false });
    kit.sql.respond(() => sqlError('password authentication failed for user "postgres"', { sqlState: '28P01' }));
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /still accepting connections/);
  });

  it('no control plugin for the server: no stop, a refused port still confirms', async () => {
    const { fence, kit } = await setup({ withControl: false });
    kit.sql.respond(() => refused());
    const result = await fence.fence('db1');
    assert.equal(result.fenced, true, result.details);
    assert.match(result.details, /no stop attempted/);
  });

  it('no control plugin and the server answers: FAIL at once', async () => {
    const { fence, kit } = await setup({ withControl: false });
    kit.sql.respond(() => [{ '?column?': 1 }]);
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /control plugin unavailable/);
    assert.equal(kit.sql.queries.length, 1);
  });

  it('an unknown server name is the caller\'s error', async () => {
    const { fence } = await setup();
    await assert.rejects(fence.fence('nope'), (err: unknown) => (err as { code?: string }).code === ErrorCodes.UNKNOWN_SERVER);
  });

  it('loads through the real core loader with its defaults', async () => {
    const report = await verifyPlugin('fence_shutdown', { kind: 'fencing', config: {} });
    assert.equal(report.name, 'fence_shutdown');
    assert.deepEqual(report.config, { stop_timeout_ms: 20_000, confirm_timeout_ms: 10_000, confirm_interval_ms: 250, check_timeout_ms: 3_000, kill_hung_postmaster: true });
  });

  it('the core loader coerces INI strings and rejects bad values', async () => {
    const report = await verifyPlugin('fence_shutdown', { kind: 'fencing', config: { confirm_timeout_ms: '1500' } });
    assert.equal(report.config['confirm_timeout_ms'], 1500);
    await assert.rejects(verifyPlugin('fence_shutdown', { kind: 'fencing', config: { confirm_interval_ms: 0 } }), /confirm_interval_ms/);
    await assert.rejects(verifyPlugin('fence_shutdown', { kind: 'fencing', config: { no_such_key: 1 } }), /no_such_key|additional/);
    const off = await verifyPlugin('fence_shutdown', { kind: 'fencing', config: { kill_hung_postmaster: 'false' } });
    assert.equal(off.config['kill_hung_postmaster'], false);
  });
});

/** The report the kill script prints after killing a stopped postmaster 4242 and two children. */
const KILLED_REPORT = ['pid 4242', 'state T', 'argv0 /usr/lib/postgresql/15/bin/postgres', `cwd ${PGDATA}`, 'children 4243 4244 ', 'left ', 'outcome killed', ''].join('\n');

/** Makes the fake host act on the kill script: when it runs, the postmaster is gone. */
function killWorks(kit: TestContext<FenceShutdownConfig>, control: FakeControl, stdout = KILLED_REPORT): void {
  kit.shell.respond((command) => {
    if (!command.command.includes('postmaster.pid')) return undefined;
    if (stdout.includes('outcome killed')) control.running = false;
    return { stdout };
  });
}

describe('fence_shutdown escalation (kill_hung_postmaster)', () => {
  it('hung server: the stop times out, the verified postmaster and its children are SIGKILLed, then confirmed down', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = () => new Promise<ControlResult>(() => undefined);
    killWorks(kit, control);
    const started = performance.now();
    const result = await fence.fence('db1');
    assert.ok(performance.now() - started < 2_000);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.fenced, true);
    assert.match(result.details, /faststop gave no answer within 200 ms; escalation: SIGKILLed the postmaster \(pid 4242, stopped, "\/usr\/lib\/postgresql\/15\/bin\/postgres" in .*\) and 2 descendant\(s\) \(4243 4244\)/);
    assert.match(result.details, /postmaster not running/);
    assert.deepEqual((result as { killed_pids?: unknown }).killed_pids, [4242, 4243, 4244]);
    assert.equal(killCommands(kit.shell).length, 1);
    const script = killCommands(kit.shell)[0];
    assert.equal(script?.server, 'db1');
    assert.equal(script?.argv, undefined, 'a script, not an argument vector');
    // The data directory is one quoted word in the script.
    assert.ok(script?.command.includes(`pgdata='/var/lib/postgresql/15/it'\\''s main'`), script?.command);
    assert.ok(kit.logger.lines.some((line) => line.level === 'warn' && /killing its postmaster/.test(line.message)));
  });

  it('a stop that fails (not only one that times out) escalates too', async () => {
    const { fence, control, kit } = await setup();
    control.faststopBehaviour = async () => fail('pg_ctl: server does not shut down', { exit_code: 1 });
    killWorks(kit, control);
    const result = await fence.fence('db1');
    assert.equal(result.fenced, true, result.details);
    assert.match(result.details, /immediate stop failed: pg_ctl: server does not shut down.*; escalation: SIGKILLed/);
  });

  it('a PID from postmaster.pid that belongs to another program is left alone: FAIL, nothing killed', async () => {
    const { fence, control, kit } = await setup({ config: { confirm_timeout_ms: 1_000 } });
    control.faststopBehaviour = () => new Promise<ControlResult>(() => undefined);
    kit.sql.respond(() => timedOut());
    killWorks(kit, control, 'pid 4242\nstate S\nargv0 /usr/bin/vim\ncwd /home/x\noutcome not_postmaster\n');
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /postmaster still running but does not answer \(hung\?\)/);
    assert.match(result.details, /pid 4242 from postmaster\.pid is not a postgres postmaster \(argv\[0\] "\/usr\/bin\/vim"; the PID was reused\): not killed/);
    assert.deepEqual((result as { killed_pids?: unknown }).killed_pids, []);
  });

  it('does not escalate after a successful stop, nor when the stop never reached the host, nor when switched off', async () => {
    const ok = await setup();
    await ok.fence.fence('db1');
    assert.equal(killCommands(ok.kit.shell).length, 0, 'stop succeeded');

    const sshRefused = await setup();
    sshRefused.control.faststopBehaviour = async () => {
      throw sshDown();
    };
    sshRefused.control.statusBehaviour = async () => {
      throw sshDown();
    };
    sshRefused.kit.sql.respond(() => refused());
    assert.equal((await sshRefused.fence.fence('db1')).fenced, true);
    assert.equal(killCommands(sshRefused.kit.shell).length, 0, 'SSH refused: the kill could not get there either');

    const off = await setup({ config: { kill_hung_postmaster: false } });
    off.control.faststopBehaviour = async () => fail('pg_ctl: server does not shut down', { exit_code: 1 });
    off.control.running = false;
    assert.equal((await off.fence.fence('db1')).fenced, true);
    assert.equal(killCommands(off.kit.shell).length, 0, 'switched off');
  });

  it('SSH fails for the kill: reported, and the checks still decide', async () => {
    const { fence, control, kit } = await setup({ config: { confirm_timeout_ms: 500 } });
    control.faststopBehaviour = () => new Promise<ControlResult>(() => undefined);
    kit.sql.respond(() => timedOut());
    kit.shell.when(/postmaster\.pid/, new HandyRepError(ErrorCodes.SSH_CONNECT, 'cannot connect to ssh on postgres@10.0.0.1:22: connect ECONNREFUSED'));
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /escalation: kill over SSH failed: cannot connect to ssh/);
  });

  it('a server without an absolute pgdata is not killed', async () => {
    const control = new FakeControl();
    const kit = createTestContext<FenceShutdownConfig>({
      name: 'fence_shutdown',
      config: { ...CONFIG, confirm_timeout_ms: 0 },
      servers: [{ name: 'db1', hostname: '10.0.0.1', role: 'master', pgdata: 'relative/data' }],
      plugins: { perServer: { 'control:db1': control } },
    });
    kit.sql.respond(() => timedOut());
    control.faststopBehaviour = () => new Promise<ControlResult>(() => undefined);
    const result = await (await plugin.create(kit.context)).fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /no kill attempted: pgdata "relative\/data" is not an absolute path/);
    assert.equal(killCommands(kit.shell).length, 0);
  });
});
