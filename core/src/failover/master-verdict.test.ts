import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeMaster } from './master-verdict.js';
import type { MasterEvidence, ReplicaOpinion } from './master-verdict.js';

const streaming = (replica: string, lastMsgAgeMs: number): ReplicaOpinion => ({
  replica,
  answered: true,
  receiverStatus: 'streaming',
  senderHost: '10.0.0.1',
  lastMsgAgeMs,
});
const disconnected = (replica: string): ReplicaOpinion => ({
  replica,
  answered: true,
  receiverStatus: null,
  senderHost: null,
  lastMsgAgeMs: null,
});

function evidence(partial: Partial<MasterEvidence>): MasterEvidence {
  return { masterHost: '10.0.0.1', poll: 'refused', ssh: 'refused', replicas: [], failingForMs: 5, verified: false, ...partial };
}

describe('judgeMaster (ARCHITECTURE.md "Failover decisions")', () => {
  const rows: [string, Partial<MasterEvidence>, string, string?][] = [
    ['a master that accepts connections is alive', { poll: 'ok' }, 'alive'],
    ['port refused, SSH refused, no replica streaming: certain death, no retry window',
      { poll: 'refused', ssh: 'refused', replicas: [disconnected('r1'), disconnected('r2')] }, 'dead', 'certain'],
    ['port refused, host unreachable over SSH, no replica streaming: certain death',
      { poll: 'refused', ssh: 'unreachable', replicas: [disconnected('r1')] }, 'dead', 'certain'],
    ['a postgres restarting on a reachable host is never certain death (SSH answers)',
      { poll: 'refused', ssh: 'ok', replicas: [disconnected('r1')] }, 'ambiguous'],
    ['starting up (rejecting) with SSH down is not certain death',
      { poll: 'rejecting', ssh: 'refused', replicas: [] }, 'ambiguous'],
    ['timeouts are ambiguous before verification (hung or partitioned)',
      { poll: 'timeout', ssh: 'timeout', replicas: [disconnected('r1')], failingForMs: 100 }, 'ambiguous'],
    ['a replica that heard from the master after polls began failing vetoes failover',
      { poll: 'timeout', ssh: 'timeout', replicas: [streaming('r1', 300), disconnected('r2')], failingForMs: 2000, verified: true }, 'cut_off_from_handyrep'],
    ['a replica that heard from the master after polls began failing vetoes even certain death',
      { poll: 'refused', ssh: 'refused', replicas: [streaming('r1', 1)], failingForMs: 50 }, 'cut_off_from_handyrep'],
    ['a replica still "streaming" but silent since before the failure does not vouch (hung master)',
      { poll: 'timeout', ssh: 'ok', replicas: [streaming('r1', 2500)], failingForMs: 2000, verified: true }, 'dead', 'verified'],
    ['port refused but a replica still streams (stale connection): not certain death',
      { poll: 'refused', ssh: 'refused', replicas: [streaming('r1', 900)], failingForMs: 10 }, 'ambiguous'],
    ['verified down after the retry window, no replica streams', { poll: 'timeout', ssh: 'timeout', replicas: [disconnected('r1')], failingForMs: 3000, verified: true }, 'dead', 'verified'],
    ['verified, port refused on a reachable host (postgres stopped)', { poll: 'refused', ssh: 'ok', failingForMs: 3000, verified: true }, 'dead', 'verified'],
    ['verified but still rejecting (starting up): wait', { poll: 'rejecting', ssh: 'ok', failingForMs: 3000, verified: true }, 'ambiguous'],
    ['a replica streaming from another host is no witness', { poll: 'timeout', ssh: 'timeout', replicas: [{ ...streaming('r1', 10), senderHost: '10.9.9.9' }], failingForMs: 3000, verified: true }, 'dead', 'verified'],
    ['replicas that did not answer say nothing', { poll: 'timeout', ssh: 'timeout', replicas: [{ ...streaming('r1', 10), answered: false }], failingForMs: 3000, verified: true }, 'dead', 'verified'],
  ];
  for (const [title, partial, verdict, certainty] of rows) {
    it(title, () => {
      const result = judgeMaster(evidence(partial));
      assert.equal(result.verdict, verdict, result.reason);
      if (certainty) assert.equal(result.verdict === 'dead' ? result.certainty : undefined, certainty);
      assert.ok(result.reason.length > 0);
    });
  }

  it('names the witnesses', () => {
    const result = judgeMaster(evidence({ poll: 'timeout', replicas: [streaming('r1', 10), streaming('r2', 20)], failingForMs: 1000 }));
    assert.equal(result.verdict, 'cut_off_from_handyrep');
    assert.deepEqual(result.verdict === 'cut_off_from_handyrep' ? result.witnesses : [], ['r1', 'r2']);
  });
});
