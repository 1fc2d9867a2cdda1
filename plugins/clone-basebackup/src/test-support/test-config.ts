import type { CloneBasebackupConfig } from '../config.js';

/** The plugin's defaults, as the core would hand them over, for the unit tests. */
export const TEST_CONFIG: CloneBasebackupConfig = {
  timeout_seconds: 3600,
  command_timeout_seconds: 30,
  checkpoint: 'fast',
  max_rate: '',
  replication_passfile: 'handyrep-replication.pgpass',
  rewind_timeout_seconds: 1800,
  rewind_restore_target_wal: false,
};
