import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { CommandResult, ReturnDictionary } from '@handyrep/plugin-sdk';

/** Longest tool output kept in a return dictionary; the end is kept, where tools put the reason. */
const MAX_OUTPUT_CHARS = 2000;

/** Trims a tool's output for a return dictionary, keeping its end. */
export function trimOutput(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_OUTPUT_CHARS ? trimmed : `...${trimmed.slice(-MAX_OUTPUT_CHARS)}`;
}

/** The exit code and trimmed stderr of a finished command, for a return dictionary. */
export function commandFields(result: CommandResult): { exit_code: number | null; stderr: string } {
  return { exit_code: result.exitCode, stderr: trimOutput(result.stderr) };
}

/** What a command said, for a `details` text: its stderr, else stdout, else its exit status. */
export function commandReason(result: CommandResult): string {
  return trimOutput(result.stderr) || trimOutput(result.stdout) || `exit ${result.exitCode ?? 'by signal'}`;
}

/**
 * A FAIL for an exception (SSH connect failure, time-out, unusable setting);
 * `error_code` carries the coded error so a caller can tell a time-out
 * (outcome unknown) from a bad setting.
 */
export function failFromError(action: string, server: string, err: unknown): ReturnDictionary<{ error_code: string | null }> {
  const code = (err as { code?: unknown } | null)?.code;
  return fail(`${action} on ${server} failed: ${errorMessage(err)}`, { error_code: typeof code === 'string' ? code : null });
}
