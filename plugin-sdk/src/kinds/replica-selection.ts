import type { PluginInstanceBase } from './base.js';

/** What the core knows of one replica when choosing a new master. */
export interface ReplicaCandidate {
  /** Server name. */
  name: string;
  /** Current status name. */
  status: string;
  /** Whether it answered the latest check. */
  reachable: boolean;
  /** Whether it is in recovery (a replica). */
  in_recovery: boolean;
  /** Last received WAL position, as bytes from 0/0; null when unknown. */
  received_lsn_bytes: bigint | null;
  /** Lag in MB behind the master or the most advanced replica; null when unknown. */
  lag_mb: number | null;
  /** Lower wins. */
  failover_priority: number;
  /** Never promote. */
  nofailover: boolean;
  /** Lag in MB beyond which it is no candidate. */
  failover_lag_limit: number;
}

/** The selection's answer: candidates best first, and why the others were left out. */
export interface ReplicaSelection {
  /** Eligible replicas, best first. */
  ordered: string[];
  /** Replicas left out, each with the reason. */
  excluded: { name: string; reason: string }[];
}

/** Options of one selection. */
export interface SelectionOptions {
  /** Ignore the failover lag limit (manual failover with an explicit override). */
  ignoreLagLimit?: boolean;
}

/** `selection_method`: orders failover candidates. Pure: no I/O. */
export interface ReplicaSelectionPlugin extends PluginInstanceBase {
  /** Orders `candidates` and explains every exclusion. */
  select(candidates: readonly ReplicaCandidate[], options?: SelectionOptions): ReplicaSelection;
}
