import { pgTls } from '@handyrep/plugin-sdk';
import type { Logger, PgTls, Secrets, ServerView } from '@handyrep/plugin-sdk';
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
      tls: postgresTls(config),
      remoteTls: [
        ...(settings.replication_sslmode === '' ? [] : [['sslmode', settings.replication_sslmode] as const]),
        ...(settings.replication_sslmode === '' || settings.replication_sslrootcert === '' ? [] : [['sslrootcert', settings.replication_sslrootcert] as const]),
      ],
    },
  });
  return { shell, sql };
}

/** `[handyrep] pg_sslmode` and its files, read (the loader checked they are readable). */
export function postgresTls(config: HandyRepConfig): PgTls {
  const settings = config.handyrep;
  return pgTls(settings.pg_sslmode, { rootCert: settings.pg_sslrootcert, cert: settings.pg_sslcert, key: settings.pg_sslkey });
}
