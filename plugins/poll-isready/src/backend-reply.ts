/**
 * What the first bytes from a server say about it, as libpq reads them during
 * connection start-up: an authentication request, an error, or something that
 * is not the PostgreSQL protocol at all.
 */
export type BackendReply =
  | { kind: 'incomplete' }
  | { kind: 'authentication'; code: number }
  | { kind: 'error'; sqlState: string | undefined; message: string }
  | { kind: 'unexpected'; description: string };

/** AuthenticationOk: the server let us in without a password (trust). */
export const AUTH_OK = 0;

/** libpq's bounds for a start-up message; beyond them the bytes are not protocol 3.0. */
const MAX_AUTH_LENGTH = 2000;
const MAX_MESSAGE_LENGTH = 30_000;

/** Message types that may precede the answer and carry nothing we decide on. */
const SKIPPED = new Set(['v', 'N']);

/** Fields of an ErrorResponse body: a type byte and a NUL-terminated string each, ending with a 0 byte. */
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const type = String.fromCharCode(body[at] ?? 0);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(type, body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  return fields;
}

/** A pre-3.0 error (only the postmaster's fork failure still sends one): 'E' then text up to NUL or newline. */
function legacyError(rest: Buffer): BackendReply {
  const end = rest.findIndex((byte) => byte === 0 || byte === 0x0a);
  const text = rest.toString('utf8', 0, end < 0 ? rest.length : end).trim();
  return { kind: 'error', sqlState: undefined, message: text === '' ? 'error without text (old protocol)' : text };
}

function printable(type: number): string {
  return type >= 0x20 && type < 0x7f ? `'${String.fromCharCode(type)}'` : `0x${type.toString(16).padStart(2, '0')}`;
}

/**
 * Reads the bytes received so far. Returns `incomplete` until a whole message
 * that decides the question has arrived.
 */
export function readBackendReply(received: Buffer): BackendReply {
  let at = 0;
  while (received.length - at >= 1) {
    const typeByte = received[at] ?? 0;
    const type = String.fromCharCode(typeByte);
    if (type !== 'R' && type !== 'E' && !SKIPPED.has(type)) {
      return { kind: 'unexpected', description: `message type ${printable(typeByte)} instead of an authentication request` };
    }
    if (received.length - at < 5) return { kind: 'incomplete' };
    const length = received.readInt32BE(at + 1);
    if (type === 'R') {
      if (length < 8 || length > MAX_AUTH_LENGTH) return { kind: 'unexpected', description: `an authentication request of impossible length ${length}` };
      if (received.length - at < 9) return { kind: 'incomplete' };
      return { kind: 'authentication', code: received.readInt32BE(at + 5) };
    }
    if (length < 4 || length > MAX_MESSAGE_LENGTH) {
      if (type === 'E') return legacyError(received.subarray(at + 1));
      return { kind: 'unexpected', description: `a ${printable(typeByte)} message of impossible length ${length}` };
    }
    if (received.length - at < 1 + length) return { kind: 'incomplete' };
    if (type === 'E') {
      const fields = errorFields(received.subarray(at + 5, at + 1 + length));
      const sqlState = fields.get('C');
      return {
        kind: 'error',
        sqlState: sqlState !== undefined && /^[0-9A-Z]{5}$/.test(sqlState) ? sqlState : undefined,
        message: fields.get('M') ?? 'error without message',
      };
    }
    at += 1 + length;
  }
  return { kind: 'incomplete' };
}
