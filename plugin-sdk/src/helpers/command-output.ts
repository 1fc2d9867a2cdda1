import type { Clock } from '../capabilities/clock.js';
import type { Logger } from '../capabilities/logger.js';
import type { CommandResult } from '../capabilities/remote-shell.js';
import type { Secrets } from '../capabilities/secrets.js';
import { errorMessage } from '../errors.js';
import { fail } from '../return-dictionary.js';
import type { ReturnDictionary } from '../return-dictionary.js';

/** Longest tool output kept in a return dictionary; the end is kept, where tools put the reason. */
export const MAX_OUTPUT_CHARS = 2000;

/** The `[passwords]` keys whose values `cleanOutput` masks: the ones libpq tools may echo back. */
export const PASSWORD_KEYS: readonly string[] = ['superuser_password', 'replication_password'];

/** Trims a tool's output for a return dictionary, keeping its last `MAX_OUTPUT_CHARS` characters. */
export function trimOutput(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_OUTPUT_CHARS ? trimmed : `...${trimmed.slice(-MAX_OUTPUT_CHARS)}`;
}

/** `text` with every non-empty password configured under `keys` replaced by `***`. */
export function maskPasswords(text: string, secrets: Secrets, keys: readonly string[] = PASSWORD_KEYS): string {
  let masked = text;
  for (const key of keys) {
    const value = secrets.get(key);
    if (value !== undefined && value !== '') masked = masked.split(value).join('***');
  }
  return masked;
}

/** Trims a tool's output for a return dictionary, keeping its end, with every configured password masked. */
export function cleanOutput(text: string, secrets: Secrets): string {
  return trimOutput(maskPasswords(text.trim(), secrets));
}

/** The last `count` non-empty lines of a tool's output, trimmed and joined with ` / ` on one line, for `details`. */
export function lastLines(text: string, count = 3): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(' / ');
}

/** The exit code and trimmed stderr of a finished command, as return-dictionary keys. */
export function commandFields(result: CommandResult): { exit_code: number | null; stderr: string } {
  return { exit_code: result.exitCode, stderr: trimOutput(result.stderr) };
}

/** What a finished command said, for a `details` text: its trimmed stderr, else stdout, else its exit status. */
export function commandReason(result: CommandResult): string {
  return trimOutput(result.stderr) || trimOutput(result.stdout) || `exit ${result.exitCode ?? 'by signal'}`;
}

/**
 * A FAIL for a thrown value: `details` is `<what> failed: <message>` (the
 * message passed through `clean` first, e.g. to mask passwords), `extra` keys
 * are kept and `error_code` is the thrown value's string `code` (an `HR_...`
 * code for what the core throws) or null, so a caller can tell a time-out
 * (outcome unknown) from a bad setting.
 */
export function failFromError<Extra extends object = Record<never, never>>(
  what: string,
  err: unknown,
  extra?: Extra,
  clean: (text: string) => string = (text) => text,
): ReturnDictionary<Extra & { error_code: string | null }> {
  const code = (err as { code?: unknown } | null)?.code;
  return fail(`${what} failed: ${clean(errorMessage(err))}`, { ...(extra ?? ({} as Extra)), error_code: typeof code === 'string' ? code : null });
}

/**
 * Runs one plugin action on `server`: a throw becomes `failFromError(`<action>
 * on <server>`)`, logged as a warning with `{ server, action }`; every result
 * gets `duration_ms` from the context's clock. Never throws.
 */
export async function timedServerAction(
  context: { readonly clock: Clock; readonly logger: Logger },
  action: string,
  server: string,
  work: () => Promise<ReturnDictionary>,
): Promise<ReturnDictionary<{ duration_ms: number }>> {
  const started = context.clock.now();
  let result: ReturnDictionary;
  try {
    result = await work();
  } catch (err) {
    result = failFromError(`${action} on ${server}`, err);
    context.logger.warn(result.details, { server, action });
  }
  return { ...result, duration_ms: context.clock.now() - started };
}
