import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { PromoteSqlConfig } from './config.js';
import { SqlPromotion } from './sql-promotion.js';

const CONFIG: PromoteSqlConfig = { wait_seconds: 30, command_timeout_seconds: 5, confirm_seconds: 4, confirm_interval_ms: 200 };
const PASSWORD = 'pw-never-shown';

interface Script {
  /** pg_is_in_recovery() answers, one per call (the last repeats). */
  recovery: (boolean | Error)[];
  /** What pg_promote() does. */
  promote?: boolean | Error;
}

function setup(script: Script, config: Partial<PromoteSqlConfig> = {}) {
  const kit = createTestContext<PromoteSqlConfig>({
    name: 'promote_sql',
    config: { ...CONFIG, ...config },
    servers: [{ name: 'db2', hostname: '10.0.0.2' }],
    secrets: { superuser_password: PASSWORD },
  });
  let i = 0;
  kit.sql.respond((query) => {
    if (/pg_is_in_recovery/.test(query.text)) {
      const answer = script.recovery[Math.min(i++, script.recovery.length - 1)];
      return answer instanceof Error ? answer : [{ in_recovery: answer }];
    }
    if (/pg_promote/.test(query.text)) {
      const answer = script.promote ?? true;
      return answer instanceof Error ? answer : [{ promoted: answer }];
    }
    return new Error(`unexpected statement ${query.text}`);
  });
  return { promotion: new SqlPromotion(kit.context), kit };
}

function statements(kit: TestContext<PromoteSqlConfig>): string[] {
  return kit.sql.queries.map((q) => (/pg_promote/.test(q.text) ? 'promote' : 'check'));
}

describe('promote_sql', () => {
  it('checks recovery and calls pg_promote(wait => true, wait_seconds => N) in one session, then confirms: SUCCESS', async () => {
    const { promotion, kit } = setup({ recovery: [true, true, false] });
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.promote_sent, true);
    assert.equal(result.pg_promote, true);
    assert.deepEqual(statements(kit), ['check', 'promote', 'check', 'check']);
    const promote = kit.sql.queries[1];
    assert.equal(promote?.text, 'SELECT pg_promote(wait => true, wait_seconds => $1::integer) AS promoted');
    assert.deepEqual(promote?.params, [30]);
    assert.equal(promote?.target.statementTimeoutMs, 35_000, 'statement time-out outlasts pg_promote\'s wait');
    assert.equal(promote?.target.connectTimeoutMs, 5_000);
    assert.equal(kit.sql.queries[2]?.target.statementTimeoutMs, 5_000);
    assert.ok(kit.shell.commands.length === 0, 'no SSH');
  });

  it('a server already out of recovery: SUCCESS already_master, pg_promote not called', async () => {
    const { promotion, kit } = setup({ recovery: [false] });
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.already_master, true);
    assert.equal(result.promote_sent, false);
    assert.deepEqual(statements(kit), ['check']);
  });

  it('no connection: FAIL, nothing sent', async () => {
    const { promotion, kit } = setup({ recovery: [new HandyRepError(ErrorCodes.SQL, 'cannot connect to server db2: ECONNREFUSED')] });
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, false);
    assert.equal(result.error_code, 'HR_SQL');
    assert.match(result.details, /nothing done/);
    assert.deepEqual(statements(kit), ['check']);
  });

  it('pg_promote() returning false (not within wait_seconds) is FAIL, request sent, after one look', async () => {
    const { promotion, kit } = setup({ recovery: [true], promote: false });
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.promote_sent, true);
    assert.equal(result.pg_promote, false);
    assert.match(result.details, /returned false: not promoted within 30 s/);
    assert.deepEqual(statements(kit), ['check', 'promote', 'check']);
  });

  it('pg_promote() true but the server stays in recovery: FAIL after confirm_seconds', async () => {
    const { promotion, kit } = setup({ recovery: [true] }, { confirm_seconds: 1 });
    const started = kit.clock.now();
    const result = await promotion.promote('db2');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /not confirmed out of recovery \(still in recovery\)/);
    assert.ok(kit.clock.now() - started >= 1000);
  });

  it('a lost answer (time-out) is checked: promoted → SUCCESS noting it; still in recovery → FAIL, promote_sent null', async () => {
    const lost = new TimeoutError('statement on server db2 got no answer within 35000 ms');
    const promoted = setup({ recovery: [true, false], promote: lost });
    const ok = await promoted.promotion.promote('db2');
    assert.equal(ok.result, 'SUCCESS', ok.details);
    assert.match(ok.details, /gave no answer/);
    assert.equal(ok.pg_promote, null);

    const stuck = setup({ recovery: [true], promote: lost });
    const bad = await stuck.promotion.promote('db2');
    assert.equal(bad.result, 'FAIL');
    assert.equal(bad.promote_sent, null);
    assert.equal(bad.error_code, 'HR_TIMEOUT');
    assert.match(bad.details, /may or may not have happened/);
  });

  it('"recovery is not in progress" from a race counts as promoted once confirmed', async () => {
    const race = Object.assign(new HandyRepError(ErrorCodes.SQL, 'server db2: recovery is not in progress (SQLSTATE 55000)'), { sqlState: '55000' });
    const { promotion } = setup({ recovery: [true, false], promote: race });
    assert.equal((await promotion.promote('db2')).result, 'SUCCESS');
  });

  it('never puts a password in results or logs', async () => {
    const { promotion, kit } = setup({ recovery: [true, false] });
    const result = await promotion.promote('db2');
    assert.ok(!JSON.stringify(result).includes(PASSWORD));
    assert.ok(!kit.logger.text().includes(PASSWORD));
  });
});
