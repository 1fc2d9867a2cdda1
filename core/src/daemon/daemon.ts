import { errorMessage } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';
import type { FastifyInstance } from 'fastify';
import { HandyRep } from '../handyrep.js';
import type { OpenOptions } from '../runtime.js';
import { createWebServer } from '../web/web-server.js';

/** A running daemon. */
export interface Daemon {
  /** The library instance behind it. */
  hr: HandyRep;
  /** The HTTP server. */
  web: FastifyInstance;
  /** Base URL of the web API. */
  url: string;
  /** Stops the web API and the monitor (the check in progress finishes), closes HandyRep (which releases the state file's lock). */
  stop(): Promise<void>;
}

/** Options of startDaemon. */
export interface DaemonOptions extends OpenOptions {
  /** Listen on this port instead of `[handyrep] web_port` (0 picks a free one). */
  port?: number;
  /** Install SIGTERM/SIGINT (graceful stop) and SIGHUP (reload_conf) handlers. */
  handleSignals?: boolean;
}

/** The address a local process reaches the web API at: a wildcard listen address becomes loopback. */
function localHost(listen: string): string {
  if (listen === '0.0.0.0' || listen === '') return '127.0.0.1';
  if (listen === '::' || listen === '[::]') return '[::1]';
  return listen.includes(':') ? `[${listen}]` : listen;
}

/**
 * `handyrep daemon`: the periodic failover_check with event-driven detection,
 * the web API and dashboard. HandyRep.open locks the state file first, so a
 * daemon never starts (reads, recovers or writes anything) while another
 * process, daemon or library-mode call, manages that file; once it listens it
 * records its web API in the lock so a refused process can name it.
 */
export async function startDaemon(configFile: string, options: DaemonOptions = {}): Promise<Daemon> {
  const hr = await HandyRep.open(configFile, { ...options, lockHolder: { role: 'daemon' } });
  const settings = hr.settingsWithoutSecrets().handyrep;
  let web: FastifyInstance;
  try {
    // Looked up per line: reload_conf replaces (and closes) the logger the web API started with.
    const logger: Logger = {
      debug: (message, fields) => hr.webLogger().debug(message, fields),
      info: (message, fields) => hr.webLogger().info(message, fields),
      warn: (message, fields) => hr.webLogger().warn(message, fields),
      error: (message, fields) => hr.webLogger().error(message, fields),
    };
    web = await createWebServer(hr, {
      logger,
      listen: settings.web_listen,
      allowedHosts: settings.web_allowed_hosts,
      loginMaxFailures: settings.web_login_max_failures,
      loginLockoutSeconds: settings.web_login_lockout_seconds,
      ...(settings.tls_cert && settings.tls_key ? { tls: { cert: settings.tls_cert, key: settings.tls_key } } : {}),
    });
    await web.listen({ host: settings.web_listen, port: options.port ?? settings.web_port });
  } catch (err) {
    await hr.close();
    throw err;
  }
  hr.startMonitor();
  const address = web.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.web_port;
  const scheme = settings.tls_cert ? 'https' : 'http';
  const host = settings.web_listen.includes(':') ? `[${settings.web_listen}]` : settings.web_listen;
  hr.describeLockHolder({ role: 'daemon', url: `${scheme}://${localHost(settings.web_listen)}:${port}` });
  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    hr,
    web,
    url: `${scheme}://${host}:${port}`,
    stop() {
      stopping ??= (async () => {
        await web.close().catch(() => undefined);
        await hr.close();
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
