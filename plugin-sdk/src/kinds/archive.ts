import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** `archive_script_method`: WAL archiving from the master. */
export interface ArchivePlugin extends PluginInstanceBase {
  /** Pushes the archive script to `server`. */
  pushScript(server: string): Promise<ReturnDictionary>;
  /** Starts archiving on `server` (removes the no-archiving touch file). */
  start(server: string): Promise<ReturnDictionary>;
  /** Stops archiving on `server` (creates the no-archiving touch file). */
  stop(server: string): Promise<ReturnDictionary>;
  /** Reports archiving health on `server`. */
  poll(server: string): Promise<ReturnDictionary>;
}

/** `archive_delete_method`: removes old WAL segments from the archive. */
export interface ArchiveCleanupPlugin extends PluginInstanceBase {
  /** Deletes expired segments; reports how many. */
  cleanup(): Promise<ReturnDictionary<{ deleted?: number }>>;
}
