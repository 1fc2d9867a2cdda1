import { errorMessage } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';
import type { ServerRegistry } from '../registry/server-registry.js';
import { writeStateFileAtomic, writeStateFileAtomicSync } from '../registry/state-file.js';
import type { SavedState } from '../registry/state-file.js';

/**
 * Persists the registry to the server file after every change. Writes are
 * serialised and coalesced: changes arriving during a write are saved by one
 * follow-up write, so the file is never older than the last completed change
 * by more than one write, and never written by two writers at once.
 */
export class StateStore {
  private generation: number;
  private running: Promise<void> | undefined;
  private pending = false;
  private unsubscribe: (() => void) | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly registry: ServerRegistry,
    private readonly file: string,
    initialGeneration: number,
    private readonly logger: Logger,
    private readonly afterWrite?: (state: SavedState) => void,
  ) {
    this.generation = initialGeneration;
  }

  /** Starts saving on every registry change. */
  attach(): void {
    this.unsubscribe ??= this.registry.onChange(() => this.requestSave());
  }

  /** The generation of the last state written (or read at start). */
  currentGeneration(): number {
    return this.generation;
  }

  /** Continues numbering after `generation` (a state adopted from another instance). */
  advanceTo(generation: number): void {
    if (generation > this.generation) this.generation = generation;
  }

  /** The error of the last failed write, if the last write failed. */
  lastWriteError(): string | undefined {
    return this.lastError;
  }

  /** Asks for a save; returns when a write that includes every change so far has finished. */
  requestSave(): Promise<void> {
    if (this.running) {
      this.pending = true;
      return this.running;
    }
    this.running = this.writeLoop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Saves every change made so far and throws when that write failed: for
   * writes that must reach the disk before an irreversible step (the failover journal).
   */
  async saveOrThrow(): Promise<void> {
    await this.requestSave();
    if (this.lastError !== undefined) throw new Error(`could not save server file ${this.file}: ${this.lastError}`);
  }

  private async writeLoop(): Promise<void> {
    do {
      this.pending = false;
      const state = this.registry.snapshot(this.generation + 1);
      try {
        await writeStateFileAtomic(this.file, state);
        this.generation = state.generation;
        this.lastError = undefined;
        this.afterWrite?.(state);
      } catch (err) {
        // The in-memory state stays right; the next change tries again.
        this.lastError = errorMessage(err);
        this.logger.error(`could not save server file ${this.file}: ${this.lastError}`, { file: this.file });
      }
    } while (this.pending);
  }

  /** Waits for writes in flight, then stops listening. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    while (this.running) await this.running;
  }

  /** Synchronous final write, for exit paths that cannot await. */
  saveSync(): void {
    const state = this.registry.snapshot(this.generation + 1);
    writeStateFileAtomicSync(this.file, state);
    this.generation = state.generation;
  }
}
