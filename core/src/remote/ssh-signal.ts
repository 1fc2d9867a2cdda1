import type { ClientChannel } from 'ssh2';

interface ChannelInternals {
  outgoing?: { id?: unknown; state?: unknown };
  _client?: { _protocol?: { signal?: unknown } };
}

/**
 * Sends an SSH "signal" channel request (OpenSSH ≥ 7.9 delivers it to the
 * command's process group). ssh2's public `signal()` refuses once stdin has
 * been ended (channel state `eof`), yet every HandyRep command ends stdin at
 * once so it never waits for input; the protocol allows the request after EOF,
 * so this goes one level down, guarded, and does nothing if ssh2's internals
 * ever change shape (the caller closes the channel anyway).
 */
export function signalChannel(channel: ClientChannel, signalName: 'KILL' | 'TERM'): boolean {
  const internals = channel as unknown as ChannelInternals;
  const id = internals.outgoing?.id;
  const state = internals.outgoing?.state;
  const protocol = internals._client?._protocol;
  if (typeof id !== 'number' || (state !== 'open' && state !== 'eof')) return false;
  if (!protocol || typeof protocol.signal !== 'function') return false;
  try {
    (protocol.signal as (id: number, name: string) => void).call(protocol, id, signalName);
    return true;
  } catch {
    return false;
  }
}
