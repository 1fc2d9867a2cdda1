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
