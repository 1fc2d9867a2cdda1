/** `[handyrep]` after validation, paths made absolute. */
export interface HandyrepSettings {
  log_file: string;
  log_verbose: boolean;
  server_file: string;
  override_server_file: boolean;
  postgres_superuser: string;
  replication_user: string;
  handyrep_db: string;
  handyrep_schema: string;
  handyrep_table: string;
  master_check_method: string;
  push_alert_method: string;
  authentication_method: string;
  ssh_key: string;
  ssh_known_hosts: string;
  ssh_host_key_policy: 'strict' | 'accept-new' | 'off';
  ssh_timeout: number;
  connect_timeout: number;
  web_listen: string;
  web_port: number;
  tls_cert: string;
  tls_key: string;
  web_allowed_hosts: string;
  health_endpoints: boolean;
  web_login_max_failures: number;
  web_login_lockout_seconds: number;
  allow_world_readable_config: boolean;
  plugin_paths: string;
  pg_sslmode: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  pg_sslrootcert: string;
  pg_sslcert: string;
  pg_sslkey: string;
  replication_sslmode: '' | 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  replication_sslrootcert: string;
  statement_timeout: number;
  plugin_timeout: number;
  clone_timeout: number;
}

/** `[failover]` after validation. */
export interface FailoverSettings {
  auto_failover: boolean;
  poll_method: string;
  poll_interval: number;
  verify_frequency: number;
  fail_retries: number;
  fail_retry_interval: number;
  restart_master: boolean;
  remaster: boolean;
  replication_status_method: string;
  selection_method: string;
  connection_failover_method: string;
  fencing_method: string;
  unreachable_master_policy: 'abort' | 'failover';
  promotion_timeout: number;
  restart_catchup_timeout: number;
  alert_repeat_minutes: number;
  synchronous_mode: 'off' | 'quorum' | 'quorum_strict';
  synchronous_count: number;
  use_slots: boolean;
  slot_retention_hours: number;
  switchover_grace_seconds: number;
}

/** `[archive]` after validation. */
export interface ArchiveSettings {
  archiving: boolean;
  archive_server: string;
  archive_directory: string;
  archive_script_method: string;
  archive_delete_method: string;
  archive_touch_file: string;
  archive_delete_hours: number;
}

/** `[extra_failover_commands.<name>]` after validation. */
export interface ExtraFailoverCommand {
  command: string;
  timeout: number;
}

/** A whole validated configuration. */
export interface HandyRepConfig {
  handyrep: HandyrepSettings;
  failover: FailoverSettings;
  archive: ArchiveSettings;
  server_defaults: Record<string, unknown>;
  servers: Record<string, Record<string, unknown>>;
  passwords: Record<string, string>;
  extra_failover_commands: Record<string, ExtraFailoverCommand>;
  plugins: Record<string, Record<string, unknown>>;
}
