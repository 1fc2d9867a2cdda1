// The writer's outages during a rolling restart or a switchover, and which
// step each one fell in: the steps report durations only, so their windows are
// laid end to end from the moment the action started.
import type { Ack } from '../../harness/index.js';

/** One step's name and how long it took. */
export interface TimedStep {
  label: string;
  ms: number;
}

/** The longest stretch without an acknowledged write that overlaps [from, to]. */
export function longestOutage(acks: readonly Ack[], from: number, to: number): number {
  let longest = 0;
  for (let i = 1; i < acks.length; i++) {
    const previous = acks[i - 1] as Ack;
    const current = acks[i] as Ack;
    if (current.t >= from && previous.t <= to) longest = Math.max(longest, current.t - previous.t);
  }
  return longest;
}

/**
 * The writer's longest outage within [started, ended], split over the steps it
 * overlaps: `label=ms of the outage inside that step`, steps laid end to end from `started`.
 */
export function outageByStep(acks: readonly Ack[], started: number, ended: number, steps: readonly TimedStep[]): string {
  let from = 0;
  let to = 0;
  for (let i = 1; i < acks.length; i++) {
    const previous = acks[i - 1] as Ack;
    const current = acks[i] as Ack;
    if (current.t >= started && previous.t <= ended && current.t - previous.t > to - from) [from, to] = [previous.t, current.t];
  }
  let cursor = started;
  const parts: string[] = [];
  for (const step of steps) {
    const overlap = Math.min(to, cursor + step.ms) - Math.max(from, cursor);
    if (overlap > 0) parts.push(`${step.label}=${Math.round(overlap)}`);
    cursor += step.ms;
  }
  return `${to - from}ms: ${parts.join(' | ')}`;
}
