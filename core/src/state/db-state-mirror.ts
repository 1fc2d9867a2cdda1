import { errorMessage } from '@handyrep/plugin-sdk';
import type { Logger, SqlClient } from '@handyrep/plugin-sdk';
import type { ServerRegistry } from '../registry/server-registry.js';
import { savedStateProblems } from '../registry/state-file.js';
import type { SavedState } from '../registry/state-file.js';

/** Where the HandyRep table lives: set by init_handyrep_db in the saved state's `extra`. */
export const HANDYREP_DB_KEY = 'handyrep_db';

/** Connection limits for the mirror's statements. */
export interface MirrorTimeouts {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

interface TableLocation {
  schema: string;
  table: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The table init_handyrep_db created, or undefined before that. */
export function mirrorLocation(registry: ServerRegistry): TableLocation | undefined {
  const value = registry.getExtra(HANDYREP_DB_KEY) as Partial<TableLocation> | undefined;
  if (!value || typeof value.schema !== 'string' || typeof value.table !== 'string') return undefined;
  if (!IDENTIFIER.test(value.schema) || !IDENTIFIER.test(value.table)) return undefined;
  return { schema: value.schema, table: value.table };
}

/**
 * Keeps the state (never passwords: the saved state holds none) in the
 * HandyRep table on the master, so a HandyRep started on another host, or
 * after losing its server file, finds the latest state. Best effort: a master
 * that does not answer never blocks or fails a state change; the next write
 * catches up. A generation never goes backwards in the table.
 */
export class DbStateMirror {
  private pending: SavedState | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly registry: ServerRegistry,
    private readonly sql: SqlClient,
    private readonly timeouts: MirrorTimeouts,
    private readonly logger: Logger,
  ) {}

  /** Queues `state` for the table (coalescing: only the newest queued state is written). */
  offer(state: SavedState): void {
    if (!mirrorLocation(this.registry)) return;
    this.pending = state;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const state = this.pending;
      this.pending = undefined;
      const location = mirrorLocation(this.registry);
      const master = this.registry.master();
      if (!location || !master) return;
      try {
        await this.sql.query(
          { server: master.name, ...this.timeouts },
          `UPDATE "${location.schema}"."${location.table}" SET generation = $1, updated_at = now(), state = $2 WHERE id = 1 AND generation < $1`,
          [state.generation, JSON.stringify(state)],
        );
      } catch (err) {
        this.logger.warn(`could not copy the state to ${location.schema}.${location.table} on ${master.name}: ${errorMessage(err)}`, { component: 'state' });
      }
    }
  }
}

/** Reads the state from the HandyRep table on `master`; undefined when it cannot be read or is not a state. */
export async function readMirroredState(
  sql: SqlClient,
  master: string,
  location: TableLocation,
  timeouts: MirrorTimeouts,
  logger: Logger,
): Promise<SavedState | undefined> {
  try {
    const rows = await sql.query<{ state: unknown }>(
      { server: master, ...timeouts },
      `SELECT state FROM "${location.schema}"."${location.table}" WHERE id = 1`,
    );
    const state = rows[0]?.state;
    const problems = savedStateProblems(state);
    if (problems.length > 0) {
      logger.warn(`ignoring the state in ${location.schema}.${location.table}: ${problems.join('; ')}`, { component: 'state' });
      return undefined;
    }
    return state as SavedState;
  } catch (err) {
    logger.warn(`could not read the state from ${location.schema}.${location.table} on ${master}: ${errorMessage(err)}`, { component: 'state' });
    return undefined;
  }
}
