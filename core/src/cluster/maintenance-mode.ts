import 'reflect-metadata';
import type { Clock } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { formatStatusTimestamp } from '../status/status-time.js';

const PAUSE_KEY = 'paused';

/** Maintenance mode: checks go on, nothing automatic happens. Kept in the saved state so it survives restarts. */
@injectable()
export class MaintenanceMode {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.clock) private readonly clock: Clock,
  ) {}

  /** True while paused. */
  paused(): boolean {
    return this.since() !== undefined;
  }

  /** When the pause began (ms since the epoch), or undefined. */
  since(): number | undefined {
    const value = this.registry.getExtra(PAUSE_KEY);
    return typeof value === 'object' && value !== null && typeof (value as { since?: unknown }).since === 'number'
      ? (value as { since: number }).since
      : undefined;
  }

  /** Pauses automatic actions. */
  pause(): void {
    if (!this.paused()) this.registry.setExtra(PAUSE_KEY, { since: this.clock.now() });
  }

  /** Resumes automatic actions. */
  resume(): void {
    this.registry.setExtra(PAUSE_KEY, undefined);
  }

  /** "paused since ..." or an empty string. */
  describe(): string {
    const since = this.since();
    return since === undefined ? '' : `paused since ${formatStatusTimestamp(since)} UTC`;
  }
}
