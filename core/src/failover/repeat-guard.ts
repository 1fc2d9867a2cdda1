import type { MasterEvidence } from './master-verdict.js';

/** What the evidence about a master says, without its timings: equal signatures are no new evidence. */
export function evidenceSignature(evidence: MasterEvidence): string {
  const replicas = evidence.replicas.map((r) => `${r.replica}:${r.answered ? (r.receiverStatus ?? 'none') : 'silent'}:${r.senderHost ?? ''}`).sort();
  return `${evidence.poll}|${evidence.ssh}|${replicas.join(',')}`;
}

/** One remembered conclusion about the master that HandyRep did not act on. */
interface Remembered {
  master: string;
  signature: string;
  details: string;
  /** When this conclusion was first reached. */
  since: number;
  alertedAt: number;
}

/**
 * Stops alert storms and wasted work: a master problem HandyRep concluded
 * it will not act on (a refused failover, a hold, a pause) is alerted once,
 * then at most once per `alert_repeat_minutes` while the evidence stays the
 * same; a refused failover is not re-run until the evidence changes.
 */
export class RepeatGuard {
  private remembered: Remembered | undefined;

  /** The earlier conclusion for the same master and evidence, if there is one. */
  same(master: string, step: string, evidence: MasterEvidence): Remembered | undefined {
    const known = this.remembered;
    return known && known.master === master && known.signature === `${step}|${evidenceSignature(evidence)}` ? known : undefined;
  }

  /** Records a conclusion just alerted. */
  remember(master: string, step: string, evidence: MasterEvidence, details: string, now: number): void {
    this.remembered = { master, signature: `${step}|${evidenceSignature(evidence)}`, details, since: now, alertedAt: now };
  }

  /** Whether a reminder is due (and marks it sent). */
  reminderDue(now: number, repeatMinutes: number): boolean {
    if (!this.remembered) return true;
    if (repeatMinutes <= 0 || now - this.remembered.alertedAt < repeatMinutes * 60_000) return false;
    this.remembered.alertedAt = now;
    return true;
  }

  /** Forgets: the master answered, or a failover ran. */
  clear(): void {
    this.remembered = undefined;
  }
}
