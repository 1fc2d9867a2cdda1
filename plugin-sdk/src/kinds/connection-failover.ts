import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** `connection_failover_method`: keeps proxies (pgbouncer) pointing at the master. */
export interface ConnectionFailoverPlugin extends PluginInstanceBase {
  /** Pushes the first configuration to every enabled proxy. */
  init(): Promise<ReturnDictionary>;
  /** Holds new queries on every proxy (before a switch). */
  pause(): Promise<ReturnDictionary>;
  /** Points every proxy at `newMaster` (and the best replica), reloads and resumes. */
  failover(newMaster: string): Promise<ReturnDictionary>;
  /** Lets queries flow again without a change (after an aborted switch). */
  resume(): Promise<ReturnDictionary>;
  /** Checks every proxy by connecting through it. */
  poll(): Promise<ReturnDictionary<{ proxies: Record<string, ReturnDictionary> }>>;
}
