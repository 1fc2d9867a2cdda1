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
        await this.store.write({ generation: state.generation, state });
      } catch (err) {
        this.logger.warn(`could not write the shared state: ${errorMessage(err)}`, { component: 'state' });
      }
    }
  }

  /**
   * Reads the shared store and adopts its state when it is newer than
   * `ownGeneration`; returns the generation now in force.
   */
  async adoptNewer(ownGeneration: number): Promise<number> {
    let record;
    try {
      record = await this.store.read();
    } catch (err) {
      this.logger.warn(`could not read the shared state: ${errorMessage(err)}`, { component: 'state' });
      return ownGeneration;
    }
    const current = ownGeneration;
    if (!record || record.generation <= current) return current;
    const problems = savedStateProblems(record.state);
    if (problems.length > 0) {
      this.logger.warn(`ignoring the shared state: ${problems.join('; ')}`, { component: 'state' });
      return current;
    }
    try {
      this.registry.adopt(record.state as SavedState);
    } catch (err) {
      this.logger.warn(`could not adopt the shared state: ${errorMessage(err)}`, { component: 'state' });
      return current;
    }
    this.logger.info(`adopted the shared state (generation ${record.generation})`, { component: 'state' });
    return record.generation;
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}
