import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { CommandResult, ControlResult, Secrets } from '@handyrep/plugin-sdk';

/** Longest stderr kept in a return dictionary; the end is kept, where tools put the reason. */
const MAX_STDERR_CHARS = 2000;

/** `[passwords]` keys whose values must never appear in what this plugin returns. */
const SECRET_KEYS = ['superuser_password', 'replication_password'];

/** Trims a tool's output for a return dictionary, keeping its end. */
export function trimOutput(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_STDERR_CHARS ? trimmed : `...${trimmed.slice(-MAX_STDERR_CHARS)}`;
}

/**
 * Removes configured passwords from text copied out of a server's log, in case
 * a logged line quotes one; everything else is HandyRep's or pg_ctl's own text.
 */
export function scrubSecrets(text: string, secrets: Secrets): string {
  let clean = text;
  for (const key of SECRET_KEYS) {
    const value = secrets.get(key);
    if (value !== undefined && value !== '') clean = clean.split(value).join('***');
  }
  return clean;
}

/** The `exit_code` and `stderr` of a finished command, for a return dictionary. */
export function commandFields(result: CommandResult, secrets: Secrets): { exit_code: number | null; stderr: string } {
  return { exit_code: result.exitCode, stderr: scrubSecrets(trimOutput(result.stderr), secrets) };
}

/** The last non-empty line of a tool's output (pg_ctl puts its verdict there), or an empty string. */
export function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() !== '');
  return lines[lines.length - 1]?.trim() ?? '';
}

/**
 * A FAIL for an exception (SSH connect failure, time-out, bad server
 * definition). `error_code` carries the coded error so callers can tell a
 * time-out (state unknown) from a refused connection or a bad argument.
 */
export function failFromError(action: string, server: string, err: unknown, durationMs: number): ControlResult & { error_code: string | null; duration_ms: number } {
  const code = (err as { code?: unknown } | null)?.code;
  return fail(`${action} on ${server} failed: ${errorMessage(err)}`, {
    exit_code: null,
    stderr: '',
    error_code: typeof code === 'string' ? code : null,
    duration_ms: durationMs,
  });
}
