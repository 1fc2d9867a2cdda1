import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** What to clone where. */
export interface CloneRequest {
  /** The server that becomes a replica. */
  target: string;
  /** The server to copy from (the master unless stated otherwise). */
  source: string;
  /** The server the new replica streams from (the master). */
  upstream: string;
  /** Empty an existing data directory first. Refused when the target runs or is the master. */
  reclone: boolean;
  /**
   * With reclone: empty a non-empty directory even when it holds no
   * PostgreSQL data directory (no PG_VERSION); without it such a directory is
   * refused, so a mistyped pgdata is never wiped.
   */
  force?: boolean;
  /** The physical replication slot on the upstream the replica streams through (primary_slot_name); absent: none. The caller has created it. */
  slotName?: string;
}

/** A clone's return dictionary. */
export type CloneResult = ReturnDictionary<{ duration_ms: number; bytes_copied?: number }>;

/** What to rewind: a stopped former master, resynchronised with the new master's timeline. */
export interface RewindRequest {
  /** The stopped server to rewind (a former master). */
  target: string;
  /** The server it will follow (the current master). */
  source: string;
  /** The physical replication slot on `source` the replica streams through (primary_slot_name); absent: none. The caller has created it. */
  slotName?: string;
}

/** `clone_method`: makes a server a streaming replica of another. Does not start it. */
export interface ClonePlugin extends PluginInstanceBase {
  /** Copies the data directory and writes the standby settings. */
  clone(request: CloneRequest): Promise<CloneResult>;
  /**
   * Optional: resynchronises a stopped former master with `source` (pg_rewind)
   * and writes the standby settings, so it can rejoin without a full copy.
   * FAIL when that is not possible; the caller may then reclone.
   */
  rewind?(request: RewindRequest): Promise<CloneResult>;
}
