import { judgeMaster } from './master-verdict.js';
import type { MasterEvidence, MasterVerdict } from './master-verdict.js';

/**
 * The failover rules as pure functions: what was observed in, what to do
 * next out. The check (failover-check.ts) and the plan runner
 * (failover-executor.ts) only observe and carry out; every rule of
 * docs/failover.md lives here and is unit-tested row by row (decide.test.ts).
 */

/** The settings the rules read, taken from `[failover]` and maintenance mode. */
export interface FailoverPolicy {
  autoFailover: boolean;
  paused: boolean;
  restartMaster: boolean;
  failRetries: number;
  failRetryIntervalMs: number;
  unreachableMasterPolicy: 'abort' | 'failover';
}

/** One episode of a failing master: what was tried so far. */
export interface Episode {
  /** When the first failed poll of this episode started (ms since the epoch). */
  failingSince: number;
  /** Now (ms since the epoch). */
  now: number;
  /** Observations made for the retry window so far (the first evidence counts as the first retry). */
  retries: number;
  /** Quick re-observations made because everything but one stale replica said certain death. */
  quickRechecks: number;
  /** Restarts in place tried so far (each declined one is followed by a quick new look). */
  restartAttempts: number;
}

/** What the check does next about a master that failed its poll. */
export type MasterStep =
  | { step: 'healthy'; reason: string }
  | { step: 'restart'; reason: string }
  | { step: 'observe'; atMs: number; kind: 'quick' | 'retry' | 'verify'; reason: string }
  | { step: 'warn_cut_off'; reason: string }
  | { step: 'hold'; reason: string }
  | { step: 'refuse'; reason: string }
  | { step: 'failover'; reason: string };

/** A master observation: the evidence plus, after a full verification, whether verify_master passed. */
export interface MasterObservation {
  evidence: MasterEvidence;
  /** True when verify_master succeeded during a verification observation. */
  verifiedAlive?: boolean;
}

/** How long after the last quick re-check to look again (a replica's WAL receiver notices a crash within this). */
export const QUICK_RECHECK_MS = 150;
/** How many quick re-checks before falling back to the retry window. */
export const MAX_QUICK_RECHECKS = 3;

function looksCertain(evidence: MasterEvidence): boolean {
  return evidence.poll === 'refused' && (evidence.ssh === 'refused' || evidence.ssh === 'unreachable');
}

/** Restarts in place tried in one episode before the retry window decides alone. */
export const MAX_RESTART_ATTEMPTS = 3;

function canRestart(evidence: MasterEvidence, episode: Episode, policy: FailoverPolicy): boolean {
  if (!policy.restartMaster || policy.paused || evidence.ssh !== 'ok') return false;
  // A declined restart (a postmaster killed a moment ago can look alive until it is reaped) is tried again on the next look.
  if (episode.restartAttempts >= MAX_RESTART_ATTEMPTS) return false;
  return evidence.poll === 'refused' || evidence.verified;
}

function deadStep(verdict: MasterVerdict, policy: FailoverPolicy): MasterStep {
  if (policy.paused) return { step: 'refuse', reason: `${verdict.reason}; HandyRep is paused, so nothing is done` };
  if (!policy.autoFailover) return { step: 'refuse', reason: `${verdict.reason}; auto_failover is off` };
  return { step: 'failover', reason: verdict.reason };
}

/** When the next retry observation is due, and whether it is the full verification. */
function nextRetry(episode: Episode, policy: FailoverPolicy): MasterStep {
  const next = episode.retries + 1;
  const verify = next >= policy.failRetries;
  // Retries are spaced fail_retry_interval apart from the first failure, not after each poll's own time-out.
  const slot = Math.max(0, Math.min(episode.retries, policy.failRetries - 1));
  return {
    step: 'observe',
    atMs: episode.failingSince + slot * policy.failRetryIntervalMs,
    kind: verify ? 'verify' : 'retry',
    reason: verify ? 'retry window over: verifying the master' : `re-polling the master (retry ${next} of ${policy.failRetries})`,
  };
}

/**
 * The master rules (ARCHITECTURE.md "Failover decisions"): a replica's word
 * that the master lives vetoes; certain death acts at once; restart in place
 * first when configured; everything else waits out the retry window and a
 * full verification.
 */
export function decideMaster(observation: MasterObservation, episode: Episode, policy: FailoverPolicy): MasterStep {
  const { evidence } = observation;
  if (observation.verifiedAlive === true) return { step: 'healthy', reason: 'master passed its verification' };
  const verdict = judgeMaster(evidence);
  if (verdict.verdict === 'alive') return { step: 'healthy', reason: verdict.reason };
  if (verdict.verdict === 'cut_off_from_handyrep') return { step: 'warn_cut_off', reason: verdict.reason };
  if (canRestart(evidence, episode, policy)) return { step: 'restart', reason: `restart_master: ${verdict.reason}` };
  if (verdict.verdict === 'dead') return deadStep(verdict, policy);
  if (looksCertain(evidence) && episode.quickRechecks < MAX_QUICK_RECHECKS) {
    // Right after a crash a replica may not have noticed its stream broke yet: ask again a moment later.
    return { step: 'observe', atMs: episode.now + QUICK_RECHECK_MS, kind: 'quick', reason: `${verdict.reason}; asking the replicas again` };
  }
  if (evidence.verified) return { step: 'hold', reason: verdict.reason };
  return nextRetry(episode, policy);
}

/** How the attempt to fence the old master went, and what its port says afterwards. */
export interface FenceObservation {
  /** A planned switchover stops the old master cleanly; otherwise it is fenced. */
  planned: boolean;
  /** The fencing plugin (or immediate stop) confirmed the old master cannot take writes. */
  confirmed: boolean;
  /** What the attempt said. */
  attempt: string;
  /** A poll of the old master after the attempt (`not_checked` when confirmed). */
  poll: 'ok' | 'rejecting' | 'refused' | 'timeout' | 'unreachable' | 'error' | 'not_checked';
  /** The quorum fence, tried when the old master does not answer and synchronous_mode is on. */
  quorum?: { fenced: boolean; details: string };
}

/** How the old master was kept from taking writes. */
export type FenceMethod = 'clean_stop' | 'plugin' | 'refused_port' | 'quorum' | 'policy';

/** Whether the failover may go on to promote after fencing. */
export type FenceDecision = { proceed: true; reason: string; fencedBy: FenceMethod } | { proceed: false; reason: string };

/** The old master answered nothing: the quorum fence may apply. (An `error` may be an answer, e.g. a refused login: not silence.) */
export function silentPoll(poll: FenceObservation['poll']): boolean {
  return poll === 'timeout' || poll === 'unreachable';
}

/**
 * Fencing rule: confirmed, or a refusing port (nothing can write), lets the
 * failover go on; a master still accepting connections stops it; silence is
 * fenced by the synchronous quorum when there is one, and is otherwise left
 * to `unreachable_master_policy`.
 */
export function decideFence(fence: FenceObservation, policy: Pick<FailoverPolicy, 'unreachableMasterPolicy'>): FenceDecision {
  if (fence.confirmed) return { proceed: true, reason: fence.attempt, fencedBy: fence.planned ? 'clean_stop' : 'plugin' };
  if (fence.poll === 'refused') return { proceed: true, reason: `${fence.attempt}; but it refuses connections, so it cannot accept writes`, fencedBy: 'refused_port' };
  if (fence.poll === 'ok' || fence.poll === 'rejecting') {
    return { proceed: false, reason: `${fence.attempt}; it still accepts connections: not promoting a second master` };
  }
  const silence = `${fence.attempt}; it does not answer (${fence.poll})`;
  if (fence.quorum?.fenced && silentPoll(fence.poll)) return { proceed: true, reason: `${silence}; ${fence.quorum.details}`, fencedBy: 'quorum' };
  const quorum = fence.quorum ? `; ${fence.quorum.details}` : '';
  if (policy.unreachableMasterPolicy === 'failover') {
    return { proceed: true, reason: `${silence}, state unknown${quorum}: proceeding because unreachable_master_policy = failover`, fencedBy: 'policy' };
  }
  return {
    proceed: false,
    reason: `${silence}, so it may still accept writes${quorum}: not failing over because unreachable_master_policy = abort`,
  };
}

/** What is known about a candidate whose promotion did not succeed. */
export interface FailedPromotion {
  /** From the promotion plugin: false = the request never reached the server; true or null = it may have. */
  promoteSent: boolean | null;
  /** The candidate's state after HandyRep looked: its own check, before any fencing. */
  stateBefore: CandidateState;
  /** Whether the immediate stop (fence) of the candidate was confirmed; undefined when not tried. */
  fenced?: boolean;
  /** Its state after the fence, when one was tried. */
  stateAfter?: CandidateState;
}

/** A candidate's state as HandyRep sees it. `writable`: out of recovery and a test write succeeded. */
export type CandidateState = 'writable' | 'out_of_recovery' | 'in_recovery' | 'down' | 'unknown';

/** What to do with a candidate whose promotion failed or whose outcome is unknown. */
export type FailedPromotionStep =
  | { step: 'adopt'; reason: string }
  | { step: 'fence'; reason: string }
  | { step: 'next_candidate'; reason: string }
  | { step: 'stop'; reason: string };

/**
 * The rule that never leaves two masters: a failed candidate is adopted when
 * it in fact left recovery and takes writes; otherwise it is fenced and must
 * be proven down (or, when the request never reached it, in recovery) before
 * another candidate is tried. Anything unproven stops the failover.
 */
export function decideFailedPromotion(failed: FailedPromotion): FailedPromotionStep {
  if (failed.stateAfter === undefined) {
    if (failed.stateBefore === 'writable') return { step: 'adopt', reason: 'it left recovery and accepts writes after all: it is the new master' };
    if (failed.stateBefore === 'in_recovery' && failed.promoteSent === false) {
      return { step: 'next_candidate', reason: 'the promotion request never reached it and it is still in recovery' };
    }
    return { step: 'fence', reason: `its promotion may still complete (state ${failed.stateBefore}): stopping it before trying another candidate` };
  }
  if (failed.stateAfter === 'down') return { step: 'next_candidate', reason: 'it was stopped and is proven down' };
  if (failed.stateAfter === 'in_recovery' && failed.promoteSent === false) {
    return { step: 'next_candidate', reason: 'the promotion request never reached it and it is still in recovery' };
  }
  return {
    step: 'stop',
    reason: `it could not be proven in recovery or down (stop ${failed.fenced === true ? 'confirmed' : 'not confirmed'}, state ${failed.stateAfter}): not promoting a second candidate`,
  };
}
