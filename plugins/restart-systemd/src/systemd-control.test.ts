import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import type { CommandResult } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { RecordedCommand, TestContext } from '@handyrep/plugin-sdk/testing';
import type { RestartSystemdConfig } from './config.js';
import { SystemdControl } from './systemd-control.js';

const CONFIG: RestartSystemdConfig = { use_sudo: true, systemctl_path: 'systemctl', wait_seconds: 60, command_timeout_seconds: 10 };
const UNIT = 'postgresql@15-main';

/** A pretend systemd behind FakeShell. */
class PretendSystemd {
  state = 'active';
  loadState = 'loaded';
  /** States the unit goes through after a SIGQUIT, one per is-active call (the last one stays). */
  afterKill: string[] = ['deactivating', 'inactive'];
  private pending: string[] = [];
  failing: Partial<Record<string, Partial<CommandResult>>> = {};

  answer(command: RecordedCommand): Partial<CommandResult> | Error {
    const argv = command.argv ?? [];
    const verb = argv.find((a) => ['is-active', 'show', 'start', 'stop', 'restart', 'reload', 'kill'].includes(a)) ?? '';
    const failure = this.failing[verb];
    if (failure !== undefined) return failure;
    switch (verb) {
      case 'is-active':
        if (this.pending.length > 0) this.state = this.pending.shift() ?? this.state;
        return { exitCode: this.state === 'active' ? 0 : 3, stdout: `${this.state}\n` };
      case 'show':
        return { exitCode: 0, stdout: `${this.loadState}\n` };
      case 'start':
      case 'restart':
        this.state = 'active';
        return { exitCode: 0 };
      case 'stop':
        this.state = 'inactive';
        return { exitCode: 0 };
      case 'reload':
        return { exitCode: 0 };
      case 'kill':
        this.pending = [...this.afterKill];
        return { exitCode: 0 };
      default:
        return new Error(`unexpected command ${command.command}`);
    }
  }
}

function setup(config: Partial<RestartSystemdConfig> = {}, unit: unknown = UNIT) {
  const kit = createTestContext<RestartSystemdConfig>({
    name: 'restart_systemd',
    config: { ...CONFIG, ...config },
    servers: [{ name: 'db1', hostname: '10.0.0.1', systemd_unit: unit }],
  });
  const systemd = new PretendSystemd();
  kit.shell.respond((command) => systemd.answer(command));
  return { control: new SystemdControl(kit.context), kit, systemd };
}

function argvs(kit: TestContext<RestartSystemdConfig>): string[] {
  return kit.shell.commands.map((c) => (c.argv ?? []).join(' '));
}

describe('restart_systemd status', () => {
  it('is-active without sudo: active → running', async () => {
    const { control, kit } = setup();
    const result = await control.status('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.running, true);
    assert.deepEqual(argvs(kit), [`systemctl is-active -- ${UNIT}`]);
  });

  it('inactive and failed → SUCCESS not running; activating/deactivating → running', async () => {
    for (const [state, running] of [['inactive', false], ['failed', false], ['activating', true], ['deactivating', true]] as const) {
      const { control, systemd } = setup();
      systemd.state = state;
      const result = await control.status('db1');
      assert.equal(result.result, 'SUCCESS', state);
      assert.equal(result.running, running, state);
      assert.equal((result as { unit_state?: string }).unit_state, state);
    }
  });

  it('a unit that does not exist is FAIL (is-active alone would say inactive)', async () => {
    const { control, systemd, kit } = setup();
    systemd.state = 'inactive';
    systemd.loadState = 'not-found';
    const result = await control.status('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.running, false);
    assert.match(result.details, /does not exist/);
    assert.deepEqual(argvs(kit)[1], `systemctl show --property=LoadState --value -- ${UNIT}`);
  });

  it('SSH failure → FAIL with error_code, no throw', async () => {
    const { control, kit } = setup();
    kit.shell.when(/is-active/, new HandyRepError(ErrorCodes.SSH_CONNECT, 'ssh refused'));
    const result = await control.status('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.running, false);
    assert.equal((result as { error_code?: string }).error_code, 'HR_SSH_CONNECT');
  });
});

describe('restart_systemd start, stop, restart, reload', () => {
  it('start of an inactive unit: sudo -n systemctl --no-ask-password start -- <unit>, SSH time-out wait + command', async () => {
    const { control, kit, systemd } = setup();
    systemd.state = 'inactive';
    const timeouts: (number | undefined)[] = [];
    const run = kit.shell.run.bind(kit.shell);
    kit.shell.run = (server, argv, options) => {
      timeouts.push(options?.timeoutMs);
      return run(server, argv, options);
    };
    const result = await control.start('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(systemd.state, 'active');
    assert.deepEqual(kit.shell.commands[2]?.argv, ['sudo', '-n', '--', 'systemctl', '--no-ask-password', 'start', '--', UNIT]);
    assert.deepEqual(timeouts, [10_000, 10_000, 70_000]);
  });

  it('use_sudo = false and systemctl_path are honoured', async () => {
    const { control, kit, systemd } = setup({ use_sudo: false, systemctl_path: '/usr/bin/systemctl' });
    systemd.state = 'inactive';
    await control.start('db1');
    assert.deepEqual(kit.shell.commands[2]?.argv, ['/usr/bin/systemctl', '--no-ask-password', 'start', '--', UNIT]);
  });

  it('start of an active unit and stop of an inactive one are SUCCESS and change nothing', async () => {
    const { control, kit, systemd } = setup();
    const started = await control.start('db1');
    assert.match(started.details, /already active/);
    systemd.state = 'inactive';
    const stopped = await control.stop('db1');
    assert.equal(stopped.result, 'SUCCESS');
    assert.match(stopped.details, /already stopped/);
    assert.ok(!argvs(kit).some((a) => / (start|stop) -- /.test(a)));
  });

  it('stop of an active unit runs systemctl stop', async () => {
    const { control, kit, systemd } = setup();
    const result = await control.stop('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(systemd.state, 'inactive');
    assert.ok(argvs(kit).includes(`sudo -n -- systemctl --no-ask-password stop -- ${UNIT}`));
  });

  it('sudo refusing is FAIL with its stderr', async () => {
    const { control, systemd } = setup();
    systemd.failing['stop'] = { exitCode: 1, stderr: 'sudo: a password is required\n' };
    const result = await control.stop('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.exit_code, 1);
    assert.match(result.details, /a password is required/);
  });

  it('a start that outlasts the SSH time-out is FAIL HR_TIMEOUT', async () => {
    const { control, kit, systemd } = setup();
    systemd.state = 'inactive';
    kit.shell.when(/ start -- /, new TimeoutError('timed out after 70000 ms'));
    const result = await control.start('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { error_code?: string }).error_code, 'HR_TIMEOUT');
  });

  it('restart runs systemctl restart, also for a stopped unit', async () => {
    const { control, kit, systemd } = setup();
    systemd.state = 'failed';
    const result = await control.restart('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.match(result.details, /was failed/);
    assert.ok(argvs(kit).includes(`sudo -n -- systemctl --no-ask-password restart -- ${UNIT}`));
  });

  it('reload of an active unit runs systemctl reload; of an inactive one is FAIL', async () => {
    const { control, kit, systemd } = setup();
    assert.equal((await control.reload('db1')).result, 'SUCCESS');
    assert.ok(argvs(kit).includes(`sudo -n -- systemctl --no-ask-password reload -- ${UNIT}`));
    systemd.state = 'inactive';
    const refused = await control.reload('db1');
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /not active; nothing to reload/);
  });

  it('a missing unit makes every action FAIL without a state-changing command', async () => {
    const { control, kit, systemd } = setup();
    systemd.state = 'inactive';
    systemd.loadState = 'not-found';
    for (const op of ['start', 'stop', 'faststop', 'restart', 'reload'] as const) {
      const result = await control[op]('db1');
      assert.equal(result.result, 'FAIL', op);
      assert.match(result.details, /does not exist/, op);
    }
    assert.ok(argvs(kit).every((a) => /is-active|show/.test(a)));
  });

  it('a server without a usable systemd_unit is FAIL HR_BAD_ARGUMENT', async () => {
    const { control, kit } = setup({}, '');
    const result = await control.stop('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { error_code?: string }).error_code, 'HR_BAD_ARGUMENT');
    assert.equal(kit.shell.commands.length, 0);
  });
});

describe('restart_systemd faststop', () => {
  it('sends SIGQUIT to the main process only and waits until the unit is inactive', async () => {
    const { control, kit } = setup();
    const result = await control.faststop('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(kit.shell.commands[1]?.argv, ['sudo', '-n', '--', 'systemctl', '--no-ask-password', 'kill', '--kill-who=main', '--signal=SIGQUIT', '--', UNIT]);
    // is-active, kill, is-active (deactivating), is-active (inactive) + show.
    assert.equal(argvs(kit).filter((a) => a.includes('is-active')).length, 3);
    assert.match(result.details, /immediate shutdown/);
  });

  it('a unit that ends up failed counts as stopped', async () => {
    const { control, systemd } = setup();
    systemd.afterKill = ['failed'];
    assert.equal((await control.faststop('db1')).result, 'SUCCESS');
  });

  it('gives up with FAIL after wait_seconds when the unit stays up', async () => {
    const { control, kit, systemd } = setup({ wait_seconds: 2 });
    systemd.afterKill = ['deactivating'];
    const started = kit.clock.now();
    const result = await control.faststop('db1');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /still deactivating 2 s after SIGQUIT/);
    assert.ok(kit.clock.now() - started >= 2000);
  });

  it('faststop of a stopped unit is SUCCESS and sends nothing', async () => {
    const { control, kit, systemd } = setup();
    systemd.state = 'inactive';
    const result = await control.faststop('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.ok(!argvs(kit).some((a) => a.includes('kill')));
  });

  it('a refused kill is FAIL with systemctl\'s words', async () => {
    const { control, systemd } = setup();
    systemd.failing['kill'] = { exitCode: 1, stderr: 'Failed to kill unit postgresql@15-main.service: No main process to kill\n' };
    const result = await control.faststop('db1');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /No main process to kill/);
  });
});
