import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { Clock } from '@handyrep/plugin-sdk';
import { formatStatusTimestamp } from '../status/status-time.js';

/** What holds the lock. */
export interface LockHolder {
  /** The action, e.g. `manual_failover`, `clone pg3`. */
  action: string;
  /** When it started (ms since the epoch). */
  since: number;
  /** A short housekeeping step of HandyRep's own (e.g. changing the synchronous set): others wait for it instead of being refused. */
  brief: boolean;
  /** A server this action has taken down on purpose (a restart, a switchover's clean stop), while it is down. */
  expectedDown?: string;
}

/** How long a caller waits for a brief housekeeping holder before it is refused like any other. */
const BRIEF_WAIT_MS = 15_000;

/**
 * One action at a time (ARCHITECTURE.md): failover, clone, promote,
 * enable/disable and the like hold this lock; a second caller is refused at
 * once with what is running, instead of queueing behind a long clone. Only
 * a brief housekeeping holder is waited for, so HandyRep's own maintenance
 * never makes an operator's action fail.
 */
export class ActionLock {
  private holder: LockHolder | undefined;
  private released: Promise<void> = Promise.resolve();

  /** `guard` runs before every action (e.g. "does this instance act?") and refuses it by throwing. */
  constructor(
    private readonly clock: Clock,
    private readonly guard: (action: string) => Promise<void> = async () => undefined,
  ) {}

  /** The current holder, if any. */
  current(): LockHolder | undefined {
    return this.holder;
  }

  /**
   * Runs `work`, which the current holder uses to take `server` down on
   * purpose: meanwhile the failover check sees a planned outage, not a lost
   * master (no failover attempt, no "could not start" alert).
   */
  async expectingDown<T>(server: string, work: () => Promise<T>): Promise<T> {
    const holder = this.holder;
    if (!holder) return work();
    const before = holder.expectedDown;
    holder.expectedDown = server;
    try {
      return await work();
    } finally {
      holder.expectedDown = before;
    }
  }

  /** Runs `work` holding the lock; throws ACTION_IN_PROGRESS naming the holder when it is taken. */
  async run<T>(action: string, work: () => Promise<T>, options: { brief?: boolean } = {}): Promise<T> {
    const deadline = this.clock.now() + BRIEF_WAIT_MS;
    while (this.holder?.brief && !options.brief && this.clock.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - this.clock.now()));
      });
      await Promise.race([this.released, giveUp]).finally(() => clearTimeout(timer));
    }
    if (this.holder) {
      throw new HandyRepError(
        ErrorCodes.ACTION_IN_PROGRESS,
        `cannot start ${action}: ${this.holder.action} is running since ${formatStatusTimestamp(this.holder.since)} UTC; try again when it has finished`,
      );
    }
    this.holder = { action, since: this.clock.now(), brief: options.brief === true };
    let release: () => void = () => undefined;
    this.released = new Promise((resolve) => {
      release = resolve;
    });
    try {
      await this.guard(action);
      return await work();
    } finally {
      this.holder = undefined;
      release();
    }
  }
}
