import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MasterEvidence } from './master-verdict.js';
import { evidenceSignature, RepeatGuard } from './repeat-guard.js';

const evidence = (over: Partial<MasterEvidence> = {}): MasterEvidence => ({
  masterHost: 'db1',
  poll: 'timeout',
  ssh: 'timeout',
  replicas: [{ replica: 'r1', answered: true, receiverStatus: null, senderHost: null, lastMsgAgeMs: null }],
  failingForMs: 100,
  verified: true,
  ...over,
});

describe('RepeatGuard (issue 13: no alert storm, no re-run of a refused failover)', () => {
  it('the same step on the same evidence is recognised, whatever the timings', () => {
    const guard = new RepeatGuard();
    guard.remember('db1', 'failover', evidence(), 'fencing refused', 1000);
    assert.equal(guard.same('db1', 'failover', evidence({ failingForMs: 99_999 }))?.details, 'fencing refused');
  });

  it('new evidence, another step or another master is not the same', () => {
    const guard = new RepeatGuard();
    guard.remember('db1', 'failover', evidence(), 'fencing refused', 1000);
    assert.equal(guard.same('db1', 'failover', evidence({ poll: 'refused' })), undefined);
    assert.equal(guard.same('db1', 'failover', evidence({ replicas: [] })), undefined);
    assert.equal(guard.same('db1', 'hold', evidence()), undefined);
    assert.equal(guard.same('db2', 'failover', evidence()), undefined);
    guard.clear();
    assert.equal(guard.same('db1', 'failover', evidence()), undefined);
  });

  it('reminds at most once per alert_repeat_minutes, never with 0', () => {
    const guard = new RepeatGuard();
    guard.remember('db1', 'failover', evidence(), 'x', 0);
    assert.equal(guard.reminderDue(59_000, 1), false);
    assert.equal(guard.reminderDue(60_000, 1), true);
    assert.equal(guard.reminderDue(61_000, 1), false);
    assert.equal(guard.reminderDue(10_000_000, 0), false);
  });

  it('the signature ignores ages and order of replicas', () => {
    const a = evidence({ replicas: [{ replica: 'r1', answered: true, receiverStatus: 'streaming', senderHost: 'db1', lastMsgAgeMs: 5 }, { replica: 'r2', answered: false, receiverStatus: null, senderHost: null, lastMsgAgeMs: null }] });
    const b = evidence({ replicas: [{ replica: 'r2', answered: false, receiverStatus: null, senderHost: null, lastMsgAgeMs: null }, { replica: 'r1', answered: true, receiverStatus: 'streaming', senderHost: 'db1', lastMsgAgeMs: 900 }] });
    assert.equal(evidenceSignature(a), evidenceSignature(b));
  });
});
