import { errorMessage } from '@handyrep/plugin-sdk';
import type { FastifyInstance } from 'fastify';
import { HandyRep } from '../handyrep.js';
import type { OpenOptions } from '../runtime.js';
import { createWebServer } from '../web/web-server.js';
import { DaemonLock } from './daemon-lock.js';

/** A running daemon. */
export interface Daemon {
  /** The library instance behind it. */
  hr: HandyRep;
  /** The HTTP server. */
  web: FastifyInstance;
  /** Base URL of the web API. */
  url: string;
  /** Stops the web API and the monitor (the check in progress finishes), closes HandyRep, releases the lock. */
  stop(): Promise<void>;
}

/** Options of startDaemon. */
export interface DaemonOptions extends OpenOptions {
  /** Listen on this port instead of `[handyrep] web_port` (0 picks a free one). */
  port?: number;
  /** Install SIGTERM/SIGINT (graceful stop) and SIGHUP (reload_conf) handlers. */
  handleSignals?: boolean;
}

/**
 * `handyrep daemon`: the periodic failover_check with event-driven detection,
 * the web API and dashboard, and a lock so two daemons can't manage the same
 * state file.
 */
export async function startDaemon(configFile: string, options: DaemonOptions = {}): Promise<Daemon> {
  const hr = await HandyRep.open(configFile, options);
  const settings = hr.settingsWithoutSecrets().handyrep;
  const lock = new DaemonLock(`${settings.server_file}.lock`);
  try {
    lock.acquire();
  } catch (err) {
    await hr.close();
    throw err;
  }
  let web: FastifyInstance;
  try {
    web = await createWebServer(hr, {
      logger: hr.webLogger(),
      ...(settings.tls_cert && settings.tls_key ? { tls: { cert: settings.tls_cert, key: settings.tls_key } } : {}),
    });
    await web.listen({ host: settings.web_listen, port: options.port ?? settings.web_port });
  } catch (err) {
    lock.release();
    await hr.close();
    throw err;
  }
  hr.startMonitor();
  const address = web.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.web_port;
  const scheme = settings.tls_cert ? 'https' : 'http';
  const host = settings.web_listen.includes(':') ? `[${settings.web_listen}]` : settings.web_listen;
  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    hr,
    web,
    url: `${scheme}://${host}:${port}`,
    stop() {
      stopping ??= (async () => {
        await web.close().catch(() => undefined);
        await hr.close();
        lock.release();
      })();
      return stopping;
    },
  };
  if (options.handleSignals) {
    const stop = (): void => {
      void daemon.stop().then(() => process.exit(0), (err: unknown) => {
        console.error(`handyrep daemon: stopping failed: ${errorMessage(err)}`);
        process.exit(1);
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    process.on('SIGHUP', () => {
      void hr.reloadConf().then((result) => console.error(`handyrep daemon: reload_conf: ${result.result} ${result.details}`));
    });
  }
  return daemon;
}
