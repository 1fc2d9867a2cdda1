// Kept identical to plugins/clone-rsync/src/result.ts: plugins may import only the SDK,
// so the two clone plugins each carry this file.
import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { CloneResult, Secrets } from '@handyrep/plugin-sdk';

/** A clone or rewind result with what this plugin adds for the operator. */
export type CloneOutcome = CloneResult & {
  /** The server that was (or was to be) cloned or rewound. */
  target: string;
  /** The server copied from. */
  source: string;
  /** The coded error behind a FAIL that came from an exception (e.g. HR_TIMEOUT, HR_SSH_CONNECT). */
  error_code?: string | null;
  /** Exit code of the tool that failed. */
  exit_code?: number | null;
  /** The failing tool's stderr, trimmed, passwords masked. */
  stderr?: string;
  /** True when the target's old data directory was emptied (reclone) or a failed copy was removed. */
  emptied?: boolean;
  /** The primary_conninfo written (it never holds a password). */
  primary_conninfo?: string;
};

/** Longest tool output kept in a return dictionary; the end is kept, where tools put the reason. */
const MAX_OUTPUT_CHARS = 2000;

/** `[passwords]` keys whose values must never appear in what this plugin returns or logs. */
const SECRET_KEYS = ['superuser_password', 'replication_password'];

/** Trims a tool's output for a return dictionary, keeping its end, with every configured password masked. */
export function cleanOutput(text: string, secrets: Secrets): string {
  let clean = text.trim();
  for (const key of SECRET_KEYS) {
    const value = secrets.get(key);
    if (value !== undefined && value !== '') clean = clean.split(value).join('***');
  }
  return clean.length <= MAX_OUTPUT_CHARS ? clean : `...${clean.slice(-MAX_OUTPUT_CHARS)}`;
}

/** The last non-empty lines of a tool's output, on one line, for `details`. */
export function lastLines(text: string, count = 3): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(' / ');
}

/** A FAIL for an exception (unknown server, bad definition, SSH failure, time-out), with its error code. */
export function failFromError(what: string, request: { target: string; source: string }, err: unknown, durationMs: number, secrets: Secrets): CloneOutcome {
  const code = (err as { code?: unknown } | null)?.code;
  return fail(`${what} failed: ${cleanOutput(errorMessage(err), secrets)}`, {
    duration_ms: durationMs,
    target: request.target,
    source: request.source,
    error_code: typeof code === 'string' ? code : null,
  });
}
