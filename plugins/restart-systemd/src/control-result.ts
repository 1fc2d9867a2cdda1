import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { CommandResult, ControlResult } from '@handyrep/plugin-sdk';

/** Longest stderr kept in a return dictionary; the end is kept, where tools put the reason. */
const MAX_STDERR_CHARS = 2000;

/** The `exit_code` and trimmed `stderr` of a finished command, for a return dictionary. */
export function commandFields(result: CommandResult): { exit_code: number | null; stderr: string } {
  const stderr = result.stderr.trim();
  return { exit_code: result.exitCode, stderr: stderr.length <= MAX_STDERR_CHARS ? stderr : `...${stderr.slice(-MAX_STDERR_CHARS)}` };
}

/** The last non-empty line of a tool's output, or an empty string. */
export function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() !== '');
  return lines[lines.length - 1]?.trim() ?? '';
}

/** `exit N`, or `killed by a signal`. */
export function exitText(result: CommandResult): string {
  return result.exitCode === null ? 'killed by a signal' : `exit ${result.exitCode}`;
}

/**
 * A FAIL for an exception (SSH failure, time-out, bad server definition);
 * `error_code` lets callers tell a time-out (state unknown) from the rest.
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
