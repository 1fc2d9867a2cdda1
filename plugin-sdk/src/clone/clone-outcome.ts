import type { Secrets } from '../capabilities/secrets.js';
import { cleanOutput, failFromError } from '../helpers/command-output.js';
import type { CloneResult } from '../kinds/clone.js';

/** A clone or rewind result with the keys clone plugins add for the operator. */
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

/** A clone or rewind FAIL for an exception (unknown server, bad definition, SSH failure, time-out), passwords masked, with its error code. */
export function cloneFailure(what: string, request: { target: string; source: string }, err: unknown, durationMs: number, secrets: Secrets): CloneOutcome {
  return failFromError(what, err, { duration_ms: durationMs, target: request.target, source: request.source }, (text) => cleanOutput(text, secrets));
}
