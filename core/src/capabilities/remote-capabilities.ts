import type { Logger, Secrets, ServerView } from '@handyrep/plugin-sdk';
import type { HandyRepConfig } from '../config/config-types.js';
import { PgSqlClient } from '../remote/pg-sql.js';
import { SshShell } from '../remote/ssh-shell.js';

/** The real SSH shell and SQL client, configured from `[handyrep]`. */
export function createRemoteCapabilities(
  config: HandyRepConfig,
  servers: ServerView,
  secrets: Secrets,
  logger: Logger,
): { shell: SshShell; sql: PgSqlClient } {
  const settings = config.handyrep;
  const shell = new SshShell({
    servers,
    settings: {
      sshKeyPath: settings.ssh_key,
      knownHostsPath: settings.ssh_known_hosts,
      hostKeyPolicy: settings.ssh_host_key_policy,
      timeoutMs: settings.ssh_timeout * 1000,
    },
    logger,
  });
  const sql = new PgSqlClient({
    servers,
    secrets,
    settings: {
      superuser: settings.postgres_superuser,
      database: settings.handyrep_db,
      connectTimeoutMs: settings.connect_timeout * 1000,
      statementTimeoutMs: settings.statement_timeout * 1000,
    },
  });
  return { shell, sql };
}
