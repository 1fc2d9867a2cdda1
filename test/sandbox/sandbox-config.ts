// The sandbox's layout and its handyrep.conf: the harness's model for the
// cluster plus every plugin named by its real name. handyrep.conf.example is
// this file with placeholder passwords (test/integration/sandbox.test.ts
// compares the two), so the example describes a cluster that really runs.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Cluster, ConfOverrides, FixedLayout, Host } from '../harness/index.js';

/** Fixed addresses and directory, so the example config and the printed lines are the same every time. */
export const SANDBOX_LAYOUT: FixedLayout = { addressPrefix: '127.0.10', baseDir: '/tmp/handyrep-sandbox' };

/** The web port the sandbox asks for first (the core's default web_port). */
export const SANDBOX_WEB_PORT = 8754;

/** Databases pgbouncer routes (each also as `<db>_ro` to a replica). */
export const SANDBOX_DATABASES = ['appdb', 'postgres'];

/** Passwords of the web API, generated per run. */
export interface WebPasswords {
  admin: string;
  read: string;
}

/** Fresh random web API passwords (admin and read differ, as simple_password_auth requires). */
export function generateWebPasswords(): WebPasswords {
  const make = (): string => randomBytes(12).toString('base64url');
  return { admin: make(), read: make() };
}

/** The file multi_pgbouncer owns on a pgbouncer host, included last from its pgbouncer.ini. */
export function databasesFile(bouncer: Host): string {
  return join(bouncer.dir, 'handyrep-databases.ini');
}

/**
 * The operator's one-time pgbouncer edit (plugins/multi-pgbouncer/README.md):
 * the harness's pgbouncer.ini without its own [databases] section, with the
 * plugin's file included as the last line. pgbouncer reads it on the RELOAD
 * that connection_proxy_init sends.
 */
export function pgbouncerIniForHandyrep(cluster: Cluster, bouncer: Host): string {
  const ini = cluster.pgbouncerIni(bouncer, cluster.master);
  return `; pgbouncer of the HandyRep sandbox: [databases] is written by HandyRep (multi_pgbouncer)\n${ini.slice(ini.indexOf('[pgbouncer]'))}\n%include ${databasesFile(bouncer)}\n`;
}

/** Overrides of the harness model that make the sandbox's handyrep.conf. Relative paths are relative to the config file. */
export function sandboxOverrides(cluster: Cluster, web: WebPasswords): ConfOverrides {
  const overrides: ConfOverrides = {
    handyrep: {
      log_file: 'handyrep.log',
      log_verbose: false,
      server_file: 'servers.save',
      override_server_file: false,
      handyrep_db: 'postgres',
      ssh_host_key_policy: 'strict',
      ssh_timeout: 5,
      connect_timeout: 2,
      statement_timeout: 10,
      web_listen: '127.0.0.1',
      web_port: SANDBOX_WEB_PORT,
      authentication_method: 'simple_password_auth',
      push_alert_method: 'alert_log',
      master_check_method: 'one_hr_master',
    },
    failover: {
      verify_frequency: 5,
      restart_master: false,
      remaster: true,
      connection_failover_method: 'multi_pgbouncer',
      fencing_method: 'fence_shutdown',
      unreachable_master_policy: 'abort',
      synchronous_mode: 'quorum',
      synchronous_count: 1,
      use_slots: true,
      slot_retention_hours: 24,
    },
    archive: { archiving: false },
    server_defaults: { lag_limit: 16, failover_lag_limit: 256 },
    'plugins.poll_isready': { timeout_ms: 1000 },
    'plugins.fence_shutdown': { stop_timeout_ms: 5000, confirm_timeout_ms: 5000 },
    'plugins.multi_pgbouncer': { database_list: SANDBOX_DATABASES.join(', '), pause_timeout_seconds: 2, admin_timeout_seconds: 3 },
    'plugins.simple_password_auth': { admin_user: 'admin', read_user: 'read' },
    'plugins.alert_log': { min_severity: 'info' },
    'plugins.one_hr_master': { instance_name: 'sandbox' },
    passwords: { admin_password: web.admin, read_password: web.read },
  };
  cluster.postgresHosts.forEach((host, index) => {
    overrides[`servers.${host.name}`] = { failover_priority: index + 1 };
  });
  for (const bouncer of cluster.pgbouncers) {
    overrides[`servers.${bouncer.name}`] = { pgbouncer_config: bouncer.pgbouncerIni!, pgbouncer_databases_file: databasesFile(bouncer) };
  }
  return overrides;
}
