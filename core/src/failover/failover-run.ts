import { errorMessage } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ResultCode, ReturnDictionary } from '@handyrep/plugin-sdk';

/** One step of a failover, as reported in its return dictionary. */
export interface FailoverStep {
  /** What was done. */
  step: string;
  /** How it went. */
  result: ResultCode;
  /** In words. */
  details: string;
  /** How long it took. */
  duration_ms: number;
}

/** A failover's return dictionary. */
export type FailoverResult = ReturnDictionary<{
  old_master: string | null;
  new_master: string | null;
  steps: FailoverStep[];
  duration_ms: number;
  /** Milliseconds from the start until the new master was confirmed writable. */
  writable_after_ms?: number;
  /** How the old master was kept from taking writes. */
  fenced_by?: FencedBy;
}>;

/** How the old master was kept from taking writes: stopped cleanly (switchover), by the fencing or control plugin, a port that refuses, the synchronous quorum, or unreachable_master_policy = failover. */
export type FencedBy = 'clean_stop' | 'plugin' | 'refused_port' | 'quorum' | 'policy';

/** What a step's work returns: its outcome and, optionally, a value for the next step. */
export interface StepOutcome<T = undefined> {
  result: ResultCode;
  details: string;
  value?: T;
}

/**
 * The record of one failover run: every step with its outcome and duration,
 * logged as it happens, and the return dictionary at the end. A step that
 * throws is recorded as FAIL with the error.
 */
export class FailoverRun {
  readonly started: number;
  private readonly steps: FailoverStep[] = [];
  private writableAt: number | undefined;
  private fencedBy: FencedBy | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly oldMaster: string | null,
  ) {
    this.started = clock.now();
  }

  /** Runs and records one step. */
  async step<T = undefined>(name: string, work: () => Promise<StepOutcome<T>>): Promise<StepOutcome<T>> {
    const at = this.clock.now();
    let outcome: StepOutcome<T>;
    try {
      outcome = await work();
    } catch (err) {
      outcome = { result: 'FAIL', details: errorMessage(err) };
    }
    this.note(name, outcome.result, outcome.details, this.clock.now() - at);
    return outcome;
  }

  /** Records a step that was decided rather than run (e.g. what to do after a failed promotion). */
  note(name: string, result: ResultCode, details: string, durationMs = 0): void {
    this.steps.push({ step: name, result, details, duration_ms: durationMs });
    this.logger.info(`failover step ${name}: ${result} ${details}`, { component: 'failover', step: name });
  }

  /** Records how the old master was fenced. */
  fenced(by: FencedBy): void {
    this.fencedBy = by;
  }

  /** Marks the moment the new master was confirmed writable. */
  markWritable(): void {
    this.writableAt = this.clock.now() - this.started;
  }

  /** The return dictionary. */
  finish(result: ResultCode, details: string, newMaster: string | null): FailoverResult {
    return {
      result,
      details,
      old_master: this.oldMaster,
      new_master: newMaster,
      steps: [...this.steps],
      duration_ms: this.clock.now() - this.started,
      ...(this.writableAt === undefined ? {} : { writable_after_ms: this.writableAt }),
      ...(this.fencedBy === undefined ? {} : { fenced_by: this.fencedBy }),
    };
  }
}
