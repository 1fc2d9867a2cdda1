import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import { asScheduledSwitchover, decideScheduled, MAX_SCHEDULE_AHEAD_MS, parseSwitchoverTime } from './scheduled-switchover.js';
import type { ScheduleFacts, ScheduledSwitchover } from './scheduled-switchover.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');

function refused(value: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseSwitchoverTime(value, NOW),
    (err: unknown) => err instanceof HandyRepError && err.code === ErrorCodes.BAD_ARGUMENT && pattern.test(err.message),
    `${JSON.stringify(value)} is refused with ${String(pattern)}`,
  );
}

describe('parseSwitchoverTime', () => {
  it('reads ISO-8601 times with Z or an offset, seconds and fractions optional', () => {
    assert.equal(parseSwitchoverTime('2026-12-03T22:00:00Z', NOW), Date.parse('2026-12-03T22:00:00Z'));
    assert.equal(parseSwitchoverTime('2026-12-03T22:00Z', NOW), Date.parse('2026-12-03T22:00:00Z'));
    assert.equal(parseSwitchoverTime('2026-12-03T23:30:00+01:00', NOW), Date.parse('2026-12-03T22:30:00Z'));
    assert.equal(parseSwitchoverTime('2026-12-03T08:00:00-0530', NOW), Date.parse('2026-12-03T13:30:00Z'));
    assert.equal(parseSwitchoverTime('2026-12-03T12:00:05.250Z', NOW), NOW + 5250);
    assert.equal(parseSwitchoverTime(' 2026-12-03T12:00:01Z ', NOW), NOW + 1000);
  });

  it('refuses malformed times, times without an offset and times that do not exist', () => {
    refused('tomorrow', /ISO-8601/);
    refused('2026-12-03', /ISO-8601/);
    refused('2026-12-03T22:00:00', /ISO-8601/);
    refused('2026-12-03 22:00:00Z', /ISO-8601/);
    refused(1764800000000, /ISO-8601/);
    refused(null, /ISO-8601/);
    refused('2027-02-30T10:00:00Z', /does not exist/);
    refused('2026-12-03T24:00:00Z', /does not exist/);
    refused('2026-12-03T22:60:00Z', /does not exist/);
    refused('2026-12-03T22:00:00+25:00', /does not exist/);
  });

  it('refuses times in the past or now, and times more than 30 days ahead', () => {
    refused('2026-12-03T11:59:59Z', /in the past/);
    refused('2026-12-03T12:00:00Z', /in the past/);
    refused('2026-12-03T13:00:00+02:00', /in the past/);
    assert.equal(parseSwitchoverTime(new Date(NOW + MAX_SCHEDULE_AHEAD_MS).toISOString(), NOW), NOW + MAX_SCHEDULE_AHEAD_MS);
    refused(new Date(NOW + MAX_SCHEDULE_AHEAD_MS + 1000).toISOString(), /more than 30 days ahead/);
  });
});

const PENDING: ScheduledSwitchover = {
  at: '2026-12-03T12:00:00.000Z',
  newmaster: 'pg2',
  remaster: true,
  ignore_lag_limit: false,
  master: 'pg1',
  requested_at: '2026-12-03T11:00:00.000Z',
};

function facts(overrides: Partial<ScheduleFacts> = {}): ScheduleFacts {
  return { nowMs: NOW, graceMs: 300_000, master: 'pg1', failoverInProgress: false, failedFailover: undefined, paused: false, ...overrides };
}

describe('decideScheduled', () => {
  const rows: { rule: string; facts: Partial<ScheduleFacts>; expect: 'wait' | 'due' | RegExp }[] = [
    { rule: 'before its time it waits', facts: { nowMs: NOW - 1 }, expect: 'wait' },
    { rule: 'at its time it is due', facts: {}, expect: 'due' },
    { rule: 'late within the grace it is due', facts: { nowMs: NOW + 300_000 }, expect: 'due' },
    { rule: 'later than the grace it is cancelled', facts: { nowMs: NOW + 300_001 }, expect: /past its time, more than switchover_grace_seconds \(300 s\)/ },
    { rule: 'a grace of 0 still allows the exact time', facts: { graceMs: 0 }, expect: 'due' },
    { rule: 'a master change cancels it before its time', facts: { nowMs: NOW - 60_000, master: 'pg3' }, expect: /master changed .*pg1 then, pg3 now/ },
    { rule: 'no single master cancels it', facts: { master: null }, expect: /no single enabled master/ },
    { rule: 'a failover in progress cancels it before its time', facts: { nowMs: NOW - 60_000, failoverInProgress: true }, expect: /failover is in progress/ },
    { rule: 'paused at its time cancels it', facts: { paused: true }, expect: /paused/ },
    { rule: 'paused before its time waits (resume may come)', facts: { nowMs: NOW - 1, paused: true }, expect: 'wait' },
    { rule: 'a failed failover standing at its time cancels it', facts: { failedFailover: 'failover failed: no eligible replica' }, expect: /earlier failover failed \(failover failed: no eligible replica\)/ },
  ];
  for (const row of rows) {
    it(row.rule, () => {
      const step = decideScheduled(PENDING, facts(row.facts));
      if (row.expect === 'wait') assert.deepEqual(step, { step: 'wait' });
      else if (row.expect === 'due') assert.equal(step.step, 'due');
      else {
        assert.equal(step.step, 'cancel');
        assert.match(step.step === 'cancel' ? step.reason : '', row.expect);
      }
    });
  }

  it('reports how late a due switchover starts', () => {
    assert.deepEqual(decideScheduled(PENDING, facts({ nowMs: NOW + 1234 })), { step: 'due', lateMs: 1234 });
  });
});

describe('asScheduledSwitchover', () => {
  it('reads back what was saved and rejects anything else', () => {
    assert.deepEqual(asScheduledSwitchover(structuredClone(PENDING)), PENDING);
    assert.deepEqual(asScheduledSwitchover({ ...PENDING, newmaster: null }), { ...PENDING, newmaster: null });
    assert.equal(asScheduledSwitchover(undefined), undefined);
    assert.equal(asScheduledSwitchover({ ...PENDING, at: 'soon' }), undefined);
    assert.equal(asScheduledSwitchover({ ...PENDING, master: 3 }), undefined);
    assert.equal(asScheduledSwitchover({ ...PENDING, remaster: 'yes' }), undefined);
  });
});
