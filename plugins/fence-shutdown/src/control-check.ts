import { errorMessage, withTimeout } from '@handyrep/plugin-sdk';
import type { ControlPlugin } from '@handyrep/plugin-sdk';

/** What the server's control plugin said about its postmaster: `unknown` when it could not tell. */
export interface ControlCheck {
  /** `stopped` and `running` are the control plugin's word; `unknown` means it failed or did not answer. */
  state: 'stopped' | 'running' | 'unknown';
  /** What was seen, for the return dictionary. */
  detail: string;
}

/** Asks the control plugin whether the postmaster of `server` runs, within `timeoutMs`. */
export async function checkControlStatus(control: ControlPlugin | undefined, server: string, timeoutMs: number): Promise<ControlCheck> {
  if (control === undefined) return { state: 'unknown', detail: 'no control plugin' };
  try {
    const status = await withTimeout(() => control.status(server), timeoutMs, `control plugin status gave no answer within ${timeoutMs} ms`);
    if (status.result !== 'SUCCESS') return { state: 'unknown', detail: `status failed: ${status.details}` };
    return status.running
      ? { state: 'running', detail: `postmaster running${status.details ? ` (${status.details})` : ''}` }
      : { state: 'stopped', detail: `postmaster not running${status.details ? ` (${status.details})` : ''}` };
  } catch (err) {
    return { state: 'unknown', detail: `status failed: ${errorMessage(err)}` };
  }
}
