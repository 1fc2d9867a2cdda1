import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { Clock } from '@handyrep/plugin-sdk';
import { formatStatusTimestamp } from '../status/status-time.js';

/** What holds the lock. */
export interface LockHolder {
  /** The action, e.g. `manual_failover`, `clone pg3`. */
  action: string;
  /** When it started (ms since the epoch). */
  since: number;
}

/**
 * One action at a time (ARCHITECTURE.md): failover, clone, promote,
 * enable/disable and the like hold this lock; a second caller is refused at
 * once with what is running, instead of queueing behind a long clone.
 */
export class ActionLock {
  private holder: LockHolder | undefined;

  /** `guard` runs before every action (e.g. "does this instance act?") and refuses it by throwing. */
  constructor(
    private readonly clock: Clock,
    private readonly guard: (action: string) => Promise<void> = async () => undefined,
  ) {}

  /** The current holder, if any. */
  current(): LockHolder | undefined {
    return this.holder;
  }

  /** Runs `work` holding the lock; throws ACTION_IN_PROGRESS naming the holder when it is taken. */
  async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    if (this.holder) {
      throw new HandyRepError(
        ErrorCodes.ACTION_IN_PROGRESS,
        `cannot start ${action}: ${this.holder.action} is running since ${formatStatusTimestamp(this.holder.since)} UTC; try again when it has finished`,
      );
    }
    this.holder = { action, since: this.clock.now() };
    try {
      await this.guard(action);
      return await work();
    } finally {
      this.holder = undefined;
    }
  }
}
