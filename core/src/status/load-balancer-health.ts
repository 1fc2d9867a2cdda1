import type { ServerDefinition } from '@handyrep/plugin-sdk';
import { isFineOtherStatus, isViableMasterStatus } from './cluster-status.js';

/** What a load balancer's health check asks (docs/web-api.md, "Health endpoints for load balancers"). */
export type HealthCheck =
  /** Is `server` (or, without it, whichever server HandyRep names) the master, and a working one? */
  | { role: 'master'; server?: string }
  /** Is `server` a working, streaming replica, at most `maxLagMb` behind when given? */
  | { role: 'replica'; server: string; maxLagMb?: number };

/** A health check's answer: 200 with the role as its one word, or 503 `unavailable`. */
export interface HealthAnswer {
  status: 200 | 503;
  word: 'master' | 'replica' | 'unavailable';
}

const UNAVAILABLE: HealthAnswer = { status: 503, word: 'unavailable' };

/**
 * Answers a health check from HandyRep's cached view of the cluster, with the
 * same rules as the cluster status (cluster-status.ts): a master counts while
 * it is the one enabled master in a status the cluster status calls viable
 * (healthy, lagged, warning: HandyRep does not fail it over, so a balancer
 * that dropped it would leave writes nowhere to go); two enabled masters
 * answer 503 for both. A replica counts when it is enabled, healthy or
 * lagged, and `lagMbOf` has a recent lag measured on the master (only a
 * replica streaming from it has one; see AvailabilityService.recentLag).
 * A server the registry does not know answers 503, like any unusable one.
 */
export function answerHealthCheck(check: HealthCheck, servers: readonly ServerDefinition[], lagMbOf: (name: string) => number | undefined): HealthAnswer {
  if (check.role === 'master') {
    const masters = servers.filter((server) => server.enabled && server.role === 'master');
    const master = masters.length === 1 ? masters[0] : undefined;
    if (!master || (check.server !== undefined && master.name !== check.server)) return UNAVAILABLE;
    return isViableMasterStatus(master.status) ? { status: 200, word: 'master' } : UNAVAILABLE;
  }
  const replica = servers.find((server) => server.name === check.server);
  if (!replica || !replica.enabled || replica.role !== 'replica' || !isFineOtherStatus(replica.status)) return UNAVAILABLE;
  const lagMb = lagMbOf(replica.name);
  if (lagMb === undefined || (check.maxLagMb !== undefined && lagMb > check.maxLagMb)) return UNAVAILABLE;
  return { status: 200, word: 'replica' };
}
