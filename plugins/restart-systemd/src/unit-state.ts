import type { CommandResult } from '@handyrep/plugin-sdk';

/** What `systemctl is-active` said, reduced to what a control plugin needs. */
export interface UnitState {
  /** The ActiveState word as printed (`active`, `inactive`, `failed`, `activating`...), or `unknown`. */
  word: string;
  /** Whether a postmaster process exists: active, reloading, activating and deactivating units have one. */
  running: boolean;
  /** Only `active` (or `reloading`) counts as up and done. */
  active: boolean;
}

const RUNNING_WORDS = new Set(['active', 'reloading', 'refreshing', 'activating', 'deactivating']);
const ACTIVE_WORDS = new Set(['active', 'reloading', 'refreshing']);

/** Reads `systemctl is-active` output: the word decides; the exit code (0 = active) is the fallback. */
export function unitState(result: CommandResult): UnitState {
  const word = result.stdout.trim().split(/\s+/)[0] ?? '';
  if (word === '') {
    const active = result.exitCode === 0;
    return { word: 'unknown', running: active, active };
  }
  return { word, running: RUNNING_WORDS.has(word), active: ACTIVE_WORDS.has(word) };
}
