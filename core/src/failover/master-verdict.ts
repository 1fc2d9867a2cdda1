import type { ProbeOutcome } from '../availability/probe-outcome.js';

export type { ProbeOutcome };

/** What one replica says about its WAL stream from the master. */
export interface ReplicaOpinion {
  /** Replica name. */
  replica: string;
  /** Whether the replica answered HandyRep at all. */
  answered: boolean;
  /** pg_stat_wal_receiver.status; null without a WAL receiver. */
  receiverStatus: string | null;
  /** Host its WAL receiver streams from. */
  senderHost: string | null;
  /** Milliseconds since it last heard from its upstream. */
  lastMsgAgeMs: number | null;
}

/** Everything known about a master that failed a poll. */
export interface MasterEvidence {
  /** The master's host name as configured (to match the replicas' sender host). */
  masterHost: string;
  /** The latest poll of its PostgreSQL port. */
  poll: ProbeOutcome;
  /** The latest SSH probe of its host. */
  ssh: ProbeOutcome;
  /** The replicas' second opinion. */
  replicas: readonly ReplicaOpinion[];
  /** Milliseconds since the first failed poll of this episode started. */
  failingForMs: number;
  /** True once the master was fully verified after the retry window. */
  verified: boolean;
}

/** The judgement on a master that failed a poll. */
export type MasterVerdict =
  | { verdict: 'alive'; reason: string }
  | { verdict: 'dead'; certainty: 'certain' | 'verified'; reason: string }
  | { verdict: 'cut_off_from_handyrep'; witnesses: string[]; reason: string }
  | { verdict: 'ambiguous'; reason: string };

function streamsFromMaster(opinion: ReplicaOpinion, masterHost: string): boolean {
  return (
    opinion.answered &&
    opinion.receiverStatus === 'streaming' &&
    (opinion.senderHost === null || opinion.senderHost === masterHost)
  );
}

/**
 * A replica vouches for the master only when it heard from it after
 * HandyRep's first failed poll began: a hung or partitioned master stops
 * talking to its replicas at the same moment it stops answering us, while a
 * master that only HandyRep cannot reach keeps sending WAL and keepalives.
 */
function vouchesForMaster(opinion: ReplicaOpinion, evidence: MasterEvidence): boolean {
  return (
    streamsFromMaster(opinion, evidence.masterHost) &&
    opinion.lastMsgAgeMs !== null &&
    opinion.lastMsgAgeMs < evidence.failingForMs
  );
}

/**
 * ARCHITECTURE.md's rules, as a pure function: certain death acts at once,
 * a replica's word that the master is alive vetoes any failover, and
 * everything else waits for the retry window and a full verification.
 */
export function judgeMaster(evidence: MasterEvidence): MasterVerdict {
  if (evidence.poll === 'ok') return { verdict: 'alive', reason: 'master accepts connections' };

  const witnesses = evidence.replicas.filter((opinion) => vouchesForMaster(opinion, evidence)).map((o) => o.replica);
  if (witnesses.length > 0) {
    return {
      verdict: 'cut_off_from_handyrep',
      witnesses,
      reason: `HandyRep cannot reach the master, but replica${witnesses.length > 1 ? 's' : ''} ${witnesses.join(', ')} still stream${witnesses.length > 1 ? '' : 's'} from it`,
    };
  }

  const anyStreaming = evidence.replicas.some((opinion) => streamsFromMaster(opinion, evidence.masterHost));
  const hostAnswersButNoSsh = evidence.ssh === 'refused';
  const hostGone = evidence.ssh === 'unreachable';
  if (evidence.poll === 'refused' && (hostAnswersButNoSsh || hostGone) && !anyStreaming) {
    return {
      verdict: 'dead',
      certainty: 'certain',
      reason: `master port refuses connections, SSH is ${evidence.ssh === 'refused' ? 'refused' : 'unreachable'}, and no replica streams from it`,
    };
  }

  if (evidence.verified) {
    if (evidence.poll === 'rejecting') {
      return { verdict: 'ambiguous', reason: 'master is starting up or shutting down; waiting, not failing over' };
    }
    // A replica still showing "streaming" without having heard from the master since the failure began
    // (a WAL receiver that has not timed out yet, or is itself stuck) is no evidence of life.
    return { verdict: 'dead', certainty: 'verified', reason: `master verified down after the retry window (poll: ${evidence.poll}, ssh: ${evidence.ssh})` };
  }
  return { verdict: 'ambiguous', reason: `master poll ${evidence.poll}, ssh ${evidence.ssh}: retrying before verifying` };
}
