/** The command line's exit codes: 0 SUCCESS (or plain data), 1 FAIL, 2 usage or configuration error. */
export const EXIT = { ok: 0, fail: 1, usage: 2 } as const;

/** One of the command line's exit codes. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** True when an API result is a FAIL return dictionary. */
export function isFailure(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { result?: unknown }).result === 'FAIL';
}

/** The exit code an API result calls for: 1 for a FAIL return dictionary, 0 for anything else. */
export function exitCodeFor(value: unknown): ExitCode {
  return isFailure(value) ? EXIT.fail : EXIT.ok;
}
