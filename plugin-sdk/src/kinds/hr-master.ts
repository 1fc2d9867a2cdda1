import type { PluginInstanceBase } from './base.js';

/** Which HandyRep instance acts. */
export interface HrMasterDecision {
  /** True when this instance may run failovers and actions. */
  acting: boolean;
  /** Identifier of the acting instance, when known. */
  acting_instance: string | null;
  /** Why, in words. */
  details: string;
}

/** The saved state as a shared store holds it: an opaque JSON document and its generation. */
export interface SharedStateRecord {
  /** Increases by one with every write of the acting instance. */
  generation: number;
  /** The saved state (server definitions, statuses, journal); never passwords. */
  state: unknown;
}

/**
 * A store several HandyRep instances share (e.g. etcd), so a newly elected
 * instance continues with the same server definitions and failover journal.
 */
export interface SharedStateStore {
  /** The newest record, or undefined when nothing was written yet. Throws when the store cannot be read. */
  read(): Promise<SharedStateRecord | undefined>;
  /**
   * Writes `record` only while this instance holds the acting role (checked
   * atomically in the store): true when written, false when this instance does
   * not act (nothing written). Throws when the store cannot be reached.
   */
  write(record: SharedStateRecord): Promise<boolean>;
}

/** `master_check_method`: decides whether this HandyRep instance is the acting one. */
export interface HrMasterPlugin extends PluginInstanceBase {
  /**
   * Answers for this instance now. Must be quick and must never answer
   * `acting: true` unless this instance is sure it holds the role (e.g. its
   * lease cannot have expired yet): the core asks before every irreversible step.
   */
  check(): Promise<HrMasterDecision>;
  /** Optional shared state for several instances; without it each instance keeps its own server file. */
  sharedState?: SharedStateStore;
}
