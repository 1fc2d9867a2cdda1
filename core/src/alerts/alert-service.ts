import 'reflect-metadata';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { AlertSeverity, AlertType, Clock, Logger } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';

/**
 * Alerts go to the log always and to the configured alert plugin when there
 * is one. Sending never throws: a broken alert channel must not break a failover.
 */
@injectable()
export class AlertService {
  constructor(
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
  ) {}

  private readonly inFlight = new Set<Promise<void>>();

  /**
   * Sends one alert without waiting for the channel: the failover that
   * raised it goes on, and close() gives the delivery a bounded wait.
   */
  sendAlongside(type: AlertType, severity: AlertSeverity, message: string, server?: string): void {
    const sending = this.send(type, severity, message, server).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Waits up to `ms` for alerts still being delivered (at close). */
  async drain(ms: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([Promise.all([...this.inFlight]), late]).finally(() => clearTimeout(timer));
  }

  /** Sends one alert. */
  async send(type: AlertType, severity: AlertSeverity, message: string, server?: string): Promise<void> {
    const level = severity === 'critical' ? 'error' : severity === 'warning' ? 'warn' : 'info';
    const fields = { alert: type, severity, ...(server ? { server } : {}) };
    let plugin;
    try {
      plugin = this.plugins.cluster('alert');
    } catch (err) {
      this.logger.error(`alert plugin unavailable: ${errorMessage(err)}`, { alert: type });
    }
    // Without a working alert plugin the log is the alert; with one, the log just records the sending.
    if (!plugin) {
      this.logger[level](`ALERT ${type}: ${message}`, fields);
      return;
    }
    this.logger.debug(`sending alert ${type}: ${message}`, fields);
    try {
      const result = await plugin.send({
        type,
        severity,
        message,
        at: this.clock.now(),
        cluster_status: this.registry.clusterStatus().status,
        ...(server ? { server } : {}),
      });
      if (result.result !== 'SUCCESS') this.logger.error(`ALERT ${type} (not delivered: ${result.details}): ${message}`, fields);
    } catch (err) {
      this.logger.error(`ALERT ${type} (not delivered: ${errorMessage(err)}): ${message}`, fields);
    }
  }
}
