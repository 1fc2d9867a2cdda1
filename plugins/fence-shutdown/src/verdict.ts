import type { ControlCheck } from './control-check.js';
import type { PortProbe } from './port-probe.js';

/** One round of confirmation checks. */
export interface Observation {
  /** The control plugin's word on the postmaster. */
  control: ControlCheck;
  /** The connection attempt to the PostgreSQL port. */
  port: PortProbe;
}

/** Whether an observation proves the server can no longer accept writes, and why. */
export interface Verdict {
  /** True only with proof: the control plugin saw no postmaster, or the host refused the port, and nothing answered. */
  fenced: boolean;
  /** The evidence in words, for `details`. */
  reason: string;
}

/**
 * Judges one observation. `where` names the port (`host:port`). Pure, so the
 * rule that decides between one and two writable masters is tested on its own.
 */
export function judge(observation: Observation, where: string): Verdict {
  const { control, port } = observation;
  const controlSays = `control plugin: ${control.detail}`;
  const portSays = `${where}: ${port.detail}`;
  if (port.state === 'accepting') {
    return { fenced: false, reason: `still accepting connections on ${portSays}; ${controlSays}` };
  }
  if (port.state === 'not_accepting') {
    // A postmaster that answers "shutting down" may still be finishing, or may be starting again.
    return { fenced: false, reason: `a postmaster still answers on ${portSays}; ${controlSays}` };
  }
  if (control.state === 'stopped') {
    return { fenced: true, reason: `${controlSays}; port ${describePort(port)} (${portSays})` };
  }
  if (control.state === 'unknown' && port.state === 'refused') {
    return { fenced: true, reason: `port refuses connections (${portSays}); ${controlSays}` };
  }
  if (control.state === 'running') {
    const hung = port.state === 'timeout' ? ' but does not answer (hung?)' : '';
    return { fenced: false, reason: `postmaster still running${hung}: ${controlSays}; port ${describePort(port)} (${portSays})` };
  }
  if (port.state === 'timeout' || port.state === 'unreachable') {
    return { fenced: false, reason: `state unknown: host unreachable (${controlSays}; port ${describePort(port)}: ${portSays})` };
  }
  return { fenced: false, reason: `state unknown (${controlSays}; port ${describePort(port)}: ${portSays})` };
}

function describePort(port: PortProbe): string {
  switch (port.state) {
    case 'refused':
      return 'refuses connections';
    case 'timeout':
      return 'gives no answer';
    case 'unreachable':
      return 'unreachable';
    case 'error':
      return 'connection failed';
    case 'accepting':
      return 'accepts connections';
    case 'not_accepting':
      return 'answers but takes no connections';
  }
}
