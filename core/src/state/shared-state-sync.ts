import { errorMessage } from '@handyrep/plugin-sdk';
import type { Logger, SharedStateStore } from '@handyrep/plugin-sdk';
import type { ServerRegistry } from '../registry/server-registry.js';
import { savedStateProblems } from '../registry/state-file.js';
import type { SavedState } from '../registry/state-file.js';

/**
 * Keeps the saved state in the store several HandyRep instances share: the
 * acting instance writes every state it saves (the store refuses writes from
 * an instance that does not act), and any instance adopts a newer state it
 * finds there, so a newly elected instance continues with the same
 * definitions, statuses and failover journal.
 */
export class SharedStateSync {
  private pending: SavedState | undefined;
  private running: Promise<void> | undefined;
  /**
   * The newest generation this instance has seen in the shared store (adopted
   * or written). A follower's own saves number its local file, not the shared
   * store, so they must not hide a newer shared state.
   */
  private lastShared: number | undefined;

  constructor(
    private readonly store: SharedStateStore,
    private readonly registry: ServerRegistry,
    private readonly logger: Logger,
  ) {}

  /** Queues a saved state for the shared store (only the newest queued one is written). */
  offer(state: SavedState): void {
    this.pending = state;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const state = this.pending;
      this.pending = undefined;
      try {
        if (await this.store.write({ generation: state.generation, state })) this.lastShared = Math.max(this.lastShared ?? 0, state.generation);
      } catch (err) {
        this.logger.warn(`could not write the shared state: ${errorMessage(err)}`, { component: 'state' });
      }
    }
  }

  /**
   * Reads the shared store and adopts its state when it is newer than what
   * this instance last saw there (at the first call: newer than its own
   * file's `ownGeneration`); returns the generation to continue numbering from.
   */
  async adoptNewer(ownGeneration: number): Promise<number> {
    let record;
    try {
      record = await this.store.read();
    } catch (err) {
      this.logger.warn(`could not read the shared state: ${errorMessage(err)}`, { component: 'state' });
      return ownGeneration;
    }
    const seen = this.lastShared ?? ownGeneration;
    if (!record || record.generation <= seen) {
      // From the first read on, only what appears in the store counts, never this instance's own file.
      this.lastShared ??= record?.generation ?? 0;
      return ownGeneration;
    }
    const problems = savedStateProblems(record.state);
    if (problems.length > 0) {
      this.logger.warn(`ignoring the shared state: ${problems.join('; ')}`, { component: 'state' });
      return ownGeneration;
    }
    try {
      this.registry.adopt(record.state as SavedState);
    } catch (err) {
      this.logger.warn(`could not adopt the shared state: ${errorMessage(err)}`, { component: 'state' });
      return ownGeneration;
    }
    this.lastShared = record.generation;
    this.logger.info(`adopted the shared state (generation ${record.generation})`, { component: 'state' });
    return Math.max(ownGeneration, record.generation);
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}
