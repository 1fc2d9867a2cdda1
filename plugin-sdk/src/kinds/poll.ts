import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/**
 * What a poll found, in the terms of pg_isready's exit codes: accepting (0),
 * rejecting (1: starting up or shutting down), no_response (2), bad_config (3).
 */
export type PollState = 'accepting' | 'rejecting' | 'no_response' | 'bad_config';

/** A poll's return dictionary: SUCCESS only when the server accepts connections. */
export type PollResult = ReturnDictionary<{
  state: PollState;
  /**
   * Why a server gave no answer, when the method can tell: `refused` (the host
   * answered, nothing listens: the strongest evidence that PostgreSQL is not
   * running), `timeout`, `unreachable` (no route / host down) or `error`.
   */
  failure?: 'refused' | 'timeout' | 'unreachable' | 'error';
  /** True/false when the method could tell whether the server is in recovery. */
  in_recovery?: boolean;
  /** How long the poll took. */
  duration_ms: number;
}>;

/** `poll_method`: a lightweight availability check that never outlasts its time-out. */
export interface PollPlugin extends PluginInstanceBase {
  /** Checks one server. Never throws for an unreachable server: that is a FAIL result. */
  poll(server: string): Promise<PollResult>;
}
