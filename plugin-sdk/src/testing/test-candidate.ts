import type { ReplicaCandidate } from '../kinds/replica-selection.js';

/**
 * A replica candidate for selection tests: healthy, reachable, in recovery,
 * no lag, priority 999, failover_lag_limit 1000 MB (an eligible replica)
 * unless `fields` say otherwise.
 */
export function testCandidate(name: string, fields: Partial<ReplicaCandidate> = {}): ReplicaCandidate {
  return {
    name,
    status: 'healthy',
    reachable: true,
    in_recovery: true,
    received_lsn_bytes: 0x3000000n,
    lag_mb: 0,
    failover_priority: 999,
    nofailover: false,
    failover_lag_limit: 1000,
    ...fields,
  };
}
