import type { AlertPlugin } from './alert.js';
import type { ArchiveCleanupPlugin, ArchivePlugin } from './archive.js';
import type { AuthenticationPlugin } from './authentication.js';
import type { ClonePlugin } from './clone.js';
import type { ConnectionFailoverPlugin } from './connection-failover.js';
import type { ControlPlugin } from './control.js';
import type { FencingPlugin } from './fencing.js';
import type { HrMasterPlugin } from './hr-master.js';
import type { PollPlugin } from './poll.js';
import type { PromotionPlugin } from './promotion.js';
import type { ReplicaSelectionPlugin } from './replica-selection.js';
import type { ReplicationStatusPlugin } from './replication-status.js';

/** Maps each plugin kind to the interface its instances implement. */
export interface PluginKindMap {
  poll: PollPlugin;
  control: ControlPlugin;
  promotion: PromotionPlugin;
  clone: ClonePlugin;
  replication_status: ReplicationStatusPlugin;
  replica_selection: ReplicaSelectionPlugin;
  connection_failover: ConnectionFailoverPlugin;
  archive: ArchivePlugin;
  archive_cleanup: ArchiveCleanupPlugin;
  alert: AlertPlugin;
  authentication: AuthenticationPlugin;
  hr_master: HrMasterPlugin;
  fencing: FencingPlugin;
}

/** A plugin kind. */
export type PluginKind = keyof PluginKindMap;

/** Every plugin kind, for validation and documentation. */
export const PLUGIN_KINDS: readonly PluginKind[] = [
  'poll',
  'control',
  'promotion',
  'clone',
  'replication_status',
  'replica_selection',
  'connection_failover',
  'archive',
  'archive_cleanup',
  'alert',
  'authentication',
  'hr_master',
  'fencing',
];
