import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { PromotePgCtlConfig } from './config.js';
import { PgCtlPromotion } from './pg-ctl-promotion.js';

const CONFIG: PromotePgCtlConfig = { wait_seconds: 60, command_timeout_seconds: 10, confirm_seconds: 5, confirm_interval_ms: 200 };
const PGDATA = '/var/lib/postgresql/15/main';
const PASSWORD = 'pw-never-shown';

function setup(server: Record<string, unknown> = {}, config: Partial<PromotePgCtlConfig> = {}) {
  const kit = createTestContext<PromotePgCtlConfig>({
    name: 'promote_pg_ctl',
    config: { ...CONFIG, ...config },
    servers: [{ name: 'db2', hostname: '10.0.0.2', pgdata: PGDATA, pg_bin: '/usr/lib/postgresql/15/bin', ...server }],
    secrets: { superuser_password: PASSWORD },
  });
  return { promotion: new PgCtlPromotion(kit.context), kit };
}

/** Answers pg_is_in_recovery() from a list, one per call (the last one repeats). */
function recoveryAnswers(kit: TestContext<PromotePgCtlConfig>, answers: (boolean | Error)[]): void {
  let i = 0;
  kit.sql.respond((query) => {
    if (!/pg_is_in_recovery/.test(query.text)) return undefined;
    const answer = answers[Math.min(i++, answers.length - 1)];
    return answer instanceof Error ? answer : [{ in_recovery: answer }];
  });
}

describe('promote_pg_ctl', () => {
  it('checks recovery, runs pg_ctl promote -w -t with an SSH time-out beyond it, confirms: SUCCESS', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true, true, false]);
    let timeout: number | undefined;
    const run = kit.shell.run.bind(kit.shell);
    kit.shell.run = (server, argv, options) => {
      timeout = options?.timeoutMs;
      return run(server, argv, options);
    };
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.promote_sent, true);
    assert.equal(result.already_master, false);
    assert.equal(result.exit_code, 0);
    assert.deepEqual(kit.shell.commands.map((c) => c.argv), [['/usr/lib/postgresql/15/bin/pg_ctl', 'promote', '-D', PGDATA, '-w', '-t', '60']]);
    assert.equal(kit.shell.commands[0]?.server, 'db2');
    assert.equal(timeout, 70_000);
    assert.equal(kit.sql.queries.length, 3, 'one check before, two after');
    assert.deepEqual(
      kit.sql.queries.map((q) => [q.target.server, q.target.connectTimeoutMs, q.target.statementTimeoutMs]),
      Array(3).fill(['db2', 10_000, 10_000]),
    );
  });

  it('a server already out of recovery: SUCCESS already_master, nothing run', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [false]);
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.already_master, true);
    assert.equal(result.promote_sent, false);
    assert.match(result.details, /already a master/);
    assert.equal(kit.shell.commands.length, 0);
  });

  it('a server that cannot be asked over SQL is not promoted', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [new TimeoutError('connecting to server db2 timed out after 10000 ms')]);
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, false);
    assert.equal(result.error_code, 'HR_TIMEOUT');
    assert.match(result.details, /cannot check that it is in recovery.*nothing done/);
    assert.equal(kit.shell.commands.length, 0);
  });

  it('pg_ctl reports success but the server stays in recovery: FAIL after confirm_seconds', async () => {
    const { promotion, kit } = setup({}, { confirm_seconds: 2 });
    recoveryAnswers(kit, [true]);
    const started = kit.clock.now();
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, true);
    assert.match(result.details, /not confirmed out of recovery within 2 s \(still in recovery\)/);
    assert.ok(kit.clock.now() - started >= 2000);
  });

  it('check errors after the promote are retried until the deadline', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true, new HandyRepError(ErrorCodes.SQL, 'the database system is starting up'), false]);
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'SUCCESS', result.details);
  });

  it('pg_ctl promote failing (not in standby mode) is FAIL with exit code and stderr after one look', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true]);
    kit.shell.when(/ promote /, { exitCode: 1, stderr: 'pg_ctl: cannot promote server; server is not in standby mode\n' });
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.exit_code, 1);
    assert.equal(result.stderr, 'pg_ctl: cannot promote server; server is not in standby mode');
    assert.match(result.details, /exit 1.*not in standby mode/);
    assert.equal(kit.sql.queries.length, 2);
  });

  it('pg_ctl failing while the server did leave recovery (a race) is SUCCESS, with pg_ctl\'s words', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true, false]);
    kit.shell.when(/ promote /, { exitCode: 1, stderr: 'pg_ctl: server did not promote in time\n' });
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'SUCCESS');
    assert.match(result.details, /did not promote in time/);
  });

  it('an SSH failure during pg_ctl promote is FAIL with promote_sent unknown (null)', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true]);
    kit.shell.when(/ promote /, new TimeoutError("'pg_ctl' on server db2 timed out after 70000 ms"));
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, null);
    assert.equal(result.error_code, 'HR_TIMEOUT');
    assert.match(result.details, /may or may not have happened/);
  });

  it('an SSH connection that was never made is FAIL with promote_sent false (nothing ran)', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true]);
    kit.shell.when(/ promote /, new HandyRepError(ErrorCodes.SSH_CONNECT, 'cannot connect to ssh on db2: connect ECONNREFUSED'));
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, false);
    assert.equal(result.error_code, 'HR_SSH_CONNECT');
  });

  it('unsafe, relative or missing paths and unknown servers: FAIL, nothing run', async () => {
    for (const server of [{ pgdata: '/srv/$(touch /tmp/x)' }, { pgdata: 'rel/data' }, { pg_bin: '' }, { pgdata: '/a"b' }]) {
      const { promotion, kit } = setup(server);
      recoveryAnswers(kit, [true]);
      const result = await promotion.promote('db2');
      assert.equal(result.result, 'FAIL', JSON.stringify(server));
      assert.equal(result.error_code, 'HR_BAD_ARGUMENT');
      assert.equal(kit.shell.commands.length + kit.sql.queries.length, 0);
    }
    const { promotion } = setup();
    const unknown = await promotion.promote('nope');
    assert.equal(unknown.error_code, 'HR_UNKNOWN_SERVER');
  });

  it('never puts a password in results or logs', async () => {
    const { promotion, kit } = setup();
    recoveryAnswers(kit, [true, false]);
    const result = await promotion.promote('db2');
    assert.ok(!JSON.stringify(result).includes(PASSWORD));
    assert.ok(!kit.logger.text().includes(PASSWORD));
  });
});
