import type { ServerRegistry } from '../registry/server-registry.js';
import type { StateStore } from '../state/state-store.js';

/** Where a failover stands; persisted before each irreversible step so a restart never promotes twice. */
export interface FailoverJournal {
  /** Unique per failover. */
  id: string;
  /** automatic or manual. */
  trigger: 'automatic' | 'manual';
  /** The master being replaced. */
  old_master: string;
  /** The replica being promoted right now (set just before the promote call). */
  candidate: string | null;
  /** The last stage entered. */
  stage: 'started' | 'promoting' | 'promoted';
  /** When the failover started (ms since the epoch). */
  started_at: number;
  /** When the promotion of `candidate` was requested (ms since the epoch). */
  promoting_at?: number;
  /** Members of the synchronous set a quorum fence detached from the old master (server names). */
  detached?: string[];
}

/** The key under which the journal lives in the saved state's `extra`. */
export const JOURNAL_KEY = 'failover_journal';

/** Reads a journal back from saved state, or undefined when there is none (or it is not one). */
export function asJournal(value: unknown): FailoverJournal | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['id'] !== 'string' || typeof record['old_master'] !== 'string') return undefined;
  if (!['started', 'promoting', 'promoted'].includes(String(record['stage']))) return undefined;
  return value as FailoverJournal;
}

/** The journal in the saved state: every write must reach the disk, or it throws and the failover stops. */
export class JournalStore {
  constructor(
    private readonly registry: ServerRegistry,
    private readonly stateStore: StateStore,
  ) {}

  /** The journal of an unresolved failover, if any. */
  current(): FailoverJournal | undefined {
    return asJournal(this.registry.getExtra(JOURNAL_KEY));
  }

  /** Saves the journal; throws when the server file could not be written. */
  async write(journal: FailoverJournal): Promise<void> {
    this.registry.setExtra(JOURNAL_KEY, { ...journal });
    await this.stateStore.saveOrThrow();
  }

  /** Removes the journal; throws when the server file could not be written. */
  async clear(): Promise<void> {
    this.registry.setExtra(JOURNAL_KEY, undefined);
    await this.stateStore.saveOrThrow();
  }
}
