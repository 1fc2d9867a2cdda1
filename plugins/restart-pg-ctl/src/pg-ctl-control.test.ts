import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import type { CommandResult } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { RecordedCommand, TestContext } from '@handyrep/plugin-sdk/testing';
import type { RestartPgCtlConfig } from './config.js';
import { PgCtlControl } from './pg-ctl-control.js';

const CONFIG: RestartPgCtlConfig = { wait_seconds: 60, command_timeout_seconds: 10, log_file: 'log/handyrep-pg_ctl.log' };
const PGDATA = '/var/lib/postgresql/15/main';
const PG_CTL = '/usr/lib/postgresql/15/bin/pg_ctl';
const PASSWORD = 'secret-pw-never-shown';

/** A pretend server behind FakeShell: pg_ctl status/stop/start/reload change and report `running`. */
class PretendServer {
  running = true;
  stopResult: Partial<CommandResult> | undefined;
  startResult: Partial<CommandResult> | undefined;
  statusOverride: Partial<CommandResult> | Error | undefined;
  /** What the status script's /proc line says about the PID pg_ctl saw running (a letter, `gone`), when set. */
  procState: string | undefined;
  readonly timeouts: (number | undefined)[] = [];

  answer(command: RecordedCommand): Partial<CommandResult> | Error {
    const text = command.command;
    if (/ status -D /.test(text)) {
      if (this.statusOverride !== undefined) return this.statusOverride;
      const proc = this.procState === undefined ? '' : `handyrep-postmaster-state 4242 ${this.procState}\n`;
      return this.running
        ? { exitCode: 0, stdout: `pg_ctl: server is running (PID: 4242)\n${PG_CTL.replace('pg_ctl', 'postgres')} "-D" "${PGDATA}"\n${proc}` }
        : { exitCode: 3, stdout: 'pg_ctl: no server running\n' };
    }
    if (/ stop -D /.test(text)) {
      if (this.stopResult !== undefined) return this.stopResult;
      this.running = false;
      return { exitCode: 0, stdout: 'waiting for server to shut down.... done\nserver stopped\n' };
    }
    if (/ start -D /.test(text)) {
      if (this.startResult !== undefined) return this.startResult;
      this.running = true;
      return { exitCode: 0, stdout: 'waiting for server to start.... done\nserver started\n' };
    }
    if (/ reload -D /.test(text)) return { exitCode: 0, stdout: 'server signaled\n' };
    return new Error(`unexpected command: ${text}`);
  }
}

function setup(servers: Record<string, unknown>[] = [{}]): { control: PgCtlControl; kit: TestContext<RestartPgCtlConfig>; pg: PretendServer } {
  const kit = createTestContext<RestartPgCtlConfig>({
    name: 'restart_pg_ctl',
    config: CONFIG,
    servers: servers.map((over, i) => ({ name: `db${i + 1}`, hostname: `10.0.0.${i + 1}`, pgdata: PGDATA, pgconf: PGDATA, pg_bin: '/usr/lib/postgresql/15/bin', ...over })),
    secrets: { superuser_password: PASSWORD },
  });
  const pg = new PretendServer();
  kit.shell.respond((command) => pg.answer(command));
  return { control: new PgCtlControl(kit.context), kit, pg };
}

/** The pg_ctl action of each command run, e.g. ['status', 'stop']. */
function actions(kit: TestContext<RestartPgCtlConfig>): string[] {
  return kit.shell.commands.map((c) => / (status|stop|start|reload) -D /.exec(c.command)?.[1] ?? c.command);
}

describe('restart_pg_ctl status', () => {
  it('exit 0 is running, with the PID', async () => {
    const { control, kit } = setup();
    const result = await control.status('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.running, true);
    assert.equal((result as { pid?: number }).pid, 4242);
    assert.equal(result.exit_code, 0);
    assert.ok(kit.shell.commands[0]?.command.startsWith(`${PG_CTL} status -D ${PGDATA} </dev/null\n`), kit.shell.commands[0]?.command);
    assert.equal(kit.shell.commands[0]?.server, 'db1');
  });

  it('a PID that pg_ctl sees running but /proc shows a zombie or gone is not running', async () => {
    for (const [state, words] of [['Z', /not running \(postmaster\.pid names PID 4242, a zombie/], ['gone', /not running \(postmaster\.pid names PID 4242, which no longer exists/]] as const) {
      const { control, pg } = setup();
      pg.procState = state;
      const result = await control.status('db1');
      assert.equal(result.result, 'SUCCESS');
      assert.equal(result.running, false, state);
      assert.match(result.details, words);
      assert.equal('pid' in result, false);
    }
  });

  it('a live state letter in the /proc line leaves pg_ctl\'s "running" standing', async () => {
    for (const state of ['S', 'R', 'T', 'D']) {
      const { control, pg } = setup();
      pg.procState = state;
      const result = await control.status('db1');
      assert.equal(result.running, true, state);
      assert.equal(result.details, 'db1 is running (PID 4242)');
    }
  });

  it('exit 3 is SUCCESS, not running', async () => {
    const { control, pg } = setup();
    pg.running = false;
    const result = await control.status('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.running, false);
    assert.equal(result.exit_code, 3);
  });

  it('exit 4 (no data directory) is FAIL, not running, with pg_ctl\'s words', async () => {
    const { control, pg } = setup();
    pg.statusOverride = { exitCode: 4, stderr: `pg_ctl: directory "${PGDATA}" does not exist\n` };
    const result = await control.status('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.running, false);
    assert.equal(result.exit_code, 4);
    assert.match(result.details, /no such data directory.*does not exist/);
  });

  it('an SSH failure is FAIL with the error code, never a throw', async () => {
    const { control, pg } = setup();
    pg.statusOverride = new HandyRepError(ErrorCodes.SSH_CONNECT, 'cannot connect to ssh on 10.0.0.1:22');
    const result = await control.status('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.running, false);
    assert.equal((result as { error_code?: string }).error_code, 'HR_SSH_CONNECT');
    assert.equal(result.exit_code, null);
  });

  it('an unknown server is FAIL with HR_UNKNOWN_SERVER', async () => {
    const { control } = setup();
    const result = await control.status('nope');
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { error_code?: string }).error_code, 'HR_UNKNOWN_SERVER');
  });
});

describe('restart_pg_ctl stop and faststop', () => {
  it('stop runs pg_ctl stop -m fast -w -t <wait_seconds> with an SSH time-out beyond it', async () => {
    const { control, kit, pg } = setup();
    const timeouts: (number | undefined)[] = [];
    const run = kit.shell.run.bind(kit.shell);
    kit.shell.run = (server, argv, options) => {
      timeouts.push(options?.timeoutMs);
      return run(server, argv, options);
    };
    const runScript = kit.shell.runScript.bind(kit.shell);
    kit.shell.runScript = (server, script, options) => {
      timeouts.push(options?.timeoutMs);
      return runScript(server, script, options);
    };
    const result = await control.stop('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(pg.running, false);
    assert.deepEqual(actions(kit), ['status', 'stop']);
    assert.deepEqual(kit.shell.commands[1]?.argv, [PG_CTL, 'stop', '-D', PGDATA, '-m', 'fast', '-w', '-t', '60']);
    assert.deepEqual(timeouts, [10_000, 70_000]);
    assert.match(result.details, /stopped \(fast shutdown\)/);
    assert.equal(typeof result.duration_ms, 'number');
  });

  it('faststop uses -m immediate', async () => {
    const { control, kit } = setup();
    const result = await control.faststop('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.deepEqual(kit.shell.commands[1]?.argv?.slice(4, 6), ['-m', 'immediate']);
  });

  it('stop and faststop of a stopped server are SUCCESS "already stopped" and run no stop', async () => {
    for (const op of ['stop', 'faststop'] as const) {
      const { control, kit, pg } = setup();
      pg.running = false;
      const result = await control[op]('db1');
      assert.equal(result.result, 'SUCCESS');
      assert.match(result.details, /already stopped/);
      assert.deepEqual(actions(kit), ['status']);
    }
  });

  it('stop and faststop of a zombie postmaster are SUCCESS "already stopped": pg_ctl stop would wait for its reaping', async () => {
    for (const op of ['stop', 'faststop'] as const) {
      const { control, kit, pg } = setup();
      pg.procState = 'Z';
      const result = await control[op]('db1');
      assert.equal(result.result, 'SUCCESS');
      assert.match(result.details, /already stopped \(postmaster\.pid names PID 4242, a zombie/);
      assert.deepEqual(actions(kit), ['status']);
    }
  });

  it('a stop that times out inside pg_ctl is FAIL with exit code and stderr, server still running', async () => {
    const { control, pg } = setup();
    pg.stopResult = { exitCode: 1, stdout: 'waiting for server to shut down....... failed\n', stderr: 'pg_ctl: server does not shut down\n' };
    const result = await control.stop('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.exit_code, 1);
    assert.equal(result.stderr, 'pg_ctl: server does not shut down');
    assert.match(result.details, /still running/);
  });

  it('a stop that fails because the server went away meanwhile is SUCCESS (it is down)', async () => {
    const { control, pg } = setup();
    pg.stopResult = { exitCode: 1, stderr: 'pg_ctl: PID file does not exist\nIs server running?\n' };
    const answer = pg.answer.bind(pg);
    pg.answer = (command) => {
      const out = answer(command);
      if (/ stop -D /.test(command.command)) pg.running = false;
      return out;
    };
    const result = await control.stop('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.match(result.details, /Is server running\?/);
  });

  it('an SSH time-out during stop is FAIL with HR_TIMEOUT (state unknown)', async () => {
    const { control, kit } = setup();
    kit.shell.when(/ stop -D /, new TimeoutError("'pg_ctl' on server db1 timed out after 70000 ms"));
    const result = await control.stop('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal((result as { error_code?: string }).error_code, 'HR_TIMEOUT');
    assert.match(result.details, /timed out/);
  });
});

describe('restart_pg_ctl start', () => {
  it('starts a stopped server with a script: -l log under pgdata, stdin from /dev/null', async () => {
    const { control, kit, pg } = setup();
    pg.running = false;
    const result = await control.start('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(pg.running, true);
    assert.deepEqual(actions(kit), ['status', 'start']);
    const script = kit.shell.commands[1]?.command ?? '';
    assert.ok(script.includes(`${PG_CTL} start -D ${PGDATA} -l ${PGDATA}/log/handyrep-pg_ctl.log -w -t 60 </dev/null`), script);
    assert.match(script, /mkdir -p -- \/var\/lib\/postgresql\/15\/main\/log/);
    assert.match(result.details, /started in \d+ ms/);
  });

  it('starts over a zombie postmaster, saying the start script removed its lock file', async () => {
    const { control, kit, pg } = setup();
    pg.procState = 'Z';
    pg.startResult = { exitCode: 0, stdout: 'handyrep-zombie-lock-removed 4242\nwaiting for server to start.... done\nserver started\n' };
    const result = await control.start('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(actions(kit), ['status', 'start']);
    assert.match(result.details, /^db1 started in \d+ ms after removing the lock file of zombie postmaster PID 4242 \(log: /);
  });

  it('start of a running server is SUCCESS "already running" and starts nothing', async () => {
    const { control, kit } = setup();
    const result = await control.start('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.match(result.details, /already running \(PID 4242\)/);
    assert.deepEqual(actions(kit), ['status']);
  });

  it('a failed start is FAIL with pg_ctl\'s reason, the log excerpt in stderr, no password', async () => {
    const { control, pg } = setup();
    pg.running = false;
    pg.startResult = {
      exitCode: 1,
      stdout: 'waiting for server to start.... stopped waiting\n',
      stderr: `pg_ctl: could not start server\nExamine the log output.\n--- FATAL/PANIC lines at the end of the log file:\nFATAL:  role password ${PASSWORD} is bad\n`,
    };
    const result = await control.start('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.exit_code, 1);
    assert.match(result.details, /Examine the log output.*handyrep-pg_ctl\.log/);
    assert.match(result.stderr ?? '', /FATAL:  role password \*\*\* is bad/);
    assert.ok(!JSON.stringify(result).includes(PASSWORD));
  });

  it('a pgconf other than pgdata is passed as config_file', async () => {
    const { control, kit, pg } = setup([{ pgconf: '/etc/postgresql/15/main' }]);
    pg.running = false;
    await control.start('db1');
    assert.match(kit.shell.commands[1]?.command ?? '', / -o '-c config_file=\/etc\/postgresql\/15\/main\/postgresql\.conf' <\/dev\/null/);
  });

  it('a data directory that pg_ctl would pass to a shell is refused before anything runs', async () => {
    const { control, kit } = setup([{ pgdata: '/srv/pg "x" $(touch /tmp/pwned)' }]);
    for (const op of ['start', 'stop', 'faststop', 'restart', 'reload', 'status'] as const) {
      const result = await control[op]('db1');
      assert.equal(result.result, 'FAIL', op);
      assert.equal((result as { error_code?: string }).error_code, 'HR_BAD_ARGUMENT', op);
      assert.match(result.details, /refusing to run pg_ctl/, op);
    }
    assert.equal(kit.shell.commands.length, 0);
  });

  it('a missing data directory is FAIL with pg_ctl\'s message and nothing else runs', async () => {
    const { control, kit, pg } = setup();
    pg.statusOverride = { exitCode: 4, stderr: `pg_ctl: directory "${PGDATA}" does not exist\n` };
    for (const op of ['start', 'stop', 'restart', 'reload'] as const) {
      const result = await control[op]('db1');
      assert.equal(result.result, 'FAIL', op);
      assert.match(result.details, /does not exist.*nothing done/, op);
    }
    assert.deepEqual(new Set(actions(kit)), new Set(['status']));
  });
});

describe('restart_pg_ctl restart and reload', () => {
  it('restart of a running server stops (fast) then starts', async () => {
    const { control, kit, pg } = setup();
    const result = await control.restart('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(pg.running, true);
    assert.deepEqual(actions(kit), ['status', 'stop', 'start']);
    assert.match(result.details, /stopped \(fast shutdown\).*started/);
  });

  it('restart of a stopped server just starts it', async () => {
    const { control, kit, pg } = setup();
    pg.running = false;
    const result = await control.restart('db1');
    assert.equal(result.result, 'SUCCESS');
    assert.deepEqual(actions(kit), ['status', 'start']);
    assert.match(result.details, /was not running/);
  });

  it('restart does not start when the stop failed', async () => {
    const { control, kit, pg } = setup();
    pg.stopResult = { exitCode: 1, stderr: 'pg_ctl: server does not shut down\n' };
    const result = await control.restart('db1');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /stop step/);
    assert.ok(!actions(kit).includes('start'));
  });

  it('reload signals a running server and refuses a stopped one', async () => {
    const { control, kit, pg } = setup();
    const ok = await control.reload('db1');
    assert.equal(ok.result, 'SUCCESS');
    assert.deepEqual(kit.shell.commands[1]?.argv, [PG_CTL, 'reload', '-D', PGDATA]);
    pg.running = false;
    const refused = await control.reload('db1');
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /not running; nothing to reload/);
  });

  it('never logs a password', async () => {
    const { control, kit, pg } = setup();
    pg.startResult = { exitCode: 1, stderr: `FATAL: ${PASSWORD}` };
    await control.restart('db1');
    assert.ok(!kit.logger.text().includes(PASSWORD));
  });
});
