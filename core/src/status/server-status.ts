import { SERVER_STATUSES } from '@handyrep/plugin-sdk';
import type { ServerStatusName, StatusFields } from '@handyrep/plugin-sdk';
import { formatStatusTimestamp } from './status-time.js';

/** True when `value` is one of the spec's server status names. */
export function isServerStatusName(value: unknown): value is ServerStatusName {
  return typeof value === 'string' && (SERVER_STATUSES as readonly string[]).includes(value);
}

/** The spec's number of a server status (0 unknown … 5 down). */
export function serverStatusNumber(name: ServerStatusName): number {
  return SERVER_STATUSES.indexOf(name);
}

/** The four status fields of a server in status `name`, checked at `atMs`. */
export function serverStatus(name: ServerStatusName, message: string, atMs: number): StatusFields<ServerStatusName> {
  return {
    status: name,
    status_no: serverStatusNumber(name),
    status_ts: formatStatusTimestamp(atMs),
    status_message: message,
  };
}

/** The status of a server that has not been checked yet (empty `status_ts`). */
export function unknownServerStatus(): StatusFields<ServerStatusName> {
  return { status: 'unknown', status_no: 0, status_ts: '', status_message: '' };
}

/** True when `fields` is a complete, consistent set of server status fields. */
export function isServerStatusFields(fields: unknown): fields is StatusFields<ServerStatusName> {
  if (typeof fields !== 'object' || fields === null) return false;
  const f = fields as Record<string, unknown>;
  return (
    isServerStatusName(f.status) &&
    f.status_no === serverStatusNumber(f.status) &&
    typeof f.status_ts === 'string' &&
    typeof f.status_message === 'string'
  );
}

/**
 * The status after a poll of the server.
 *
 * A poll can only tell up from down. The spec says polling "cannot determine if
 * the master has issues; as a result, will not change "warning" to "healthy"":
 * a successful poll keeps `warning` (and `lagged`, which only the replication
 * check can clear) and only refreshes `status_ts`, keeping the message that
 * explains the issue. `unknown`, `unavailable` and `down` become `healthy`.
 *
 * A failed poll makes the server `unavailable` ("cannot connect to it"), except
 * that a server already verified `down` stays `down`: a poll cannot un-verify
 * it, and downgrading it would hide the verified state; its message is kept.
 */
export function statusAfterPoll(
  current: StatusFields<ServerStatusName>,
  pollSucceeded: boolean,
  message: string,
  atMs: number,
): StatusFields<ServerStatusName> {
  if (pollSucceeded) {
    if (current.status === 'warning' || current.status === 'lagged') {
      return { ...current, status_ts: formatStatusTimestamp(atMs) };
    }
    return serverStatus('healthy', message, atMs);
  }
  if (current.status === 'down') return { ...current, status_ts: formatStatusTimestamp(atMs) };
  return serverStatus('unavailable', message, atMs);
}
