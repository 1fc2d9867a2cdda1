import { errorCodeOf, errorMessage, withTimeout } from '@handyrep/plugin-sdk';
import type { ControlPlugin } from '@handyrep/plugin-sdk';
import { neverReachedHost } from './never-reached-host.js';

/** What asking the control plugin for an immediate stop achieved. */
export interface StopOutcome {
  /** The control plugin reported SUCCESS. */
  ok: boolean;
  /**
   * False only when the stop certainly never reached the host (no control
   * plugin, SSH refused the connection or the host key): then nothing on the
   * host will change and one round of checks decides.
   */
  mayHaveReachedHost: boolean;
  /** What happened, for `details`. */
  detail: string;
}

/** Runs the control plugin's `faststop` (immediate mode) for `server`, bounded by `timeoutMs`. */
export async function immediateStop(control: ControlPlugin | undefined, server: string, timeoutMs: number): Promise<StopOutcome> {
  if (control === undefined) return { ok: false, mayHaveReachedHost: false, detail: 'no stop attempted: no control plugin' };
  try {
    // Abandoned, not cancelled, at the time-out: fencing must not wait on another plugin longer than configured.
    const result = await withTimeout(() => control.faststop(server), timeoutMs, `control plugin faststop gave no answer within ${timeoutMs} ms`);
    if (result.result === 'SUCCESS') return { ok: true, mayHaveReachedHost: true, detail: `immediate stop succeeded${result.details ? ` (${result.details})` : ''}` };
    // Control plugins that turn errors into FAIL dictionaries keep the coded error as `error_code`.
    const mayHaveReachedHost = !neverReachedHost((result as { error_code?: unknown }).error_code);
    // null is "no exit code" (ended by a signal, or the command never ran): the details say which.
    const exit = typeof result.exit_code === 'number' ? `, exit code ${result.exit_code}` : '';
    const stderr = result.stderr ? `, stderr: ${result.stderr}` : '';
    return { ok: false, mayHaveReachedHost, detail: `immediate stop failed: ${result.details}${exit}${stderr}` };
  } catch (err) {
    return { ok: false, mayHaveReachedHost: !neverReachedHost(errorCodeOf(err)), detail: `immediate stop failed: ${errorMessage(err)}` };
  }
}
