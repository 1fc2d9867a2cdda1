import 'reflect-metadata';
import { container } from 'tsyringe';
import type { DependencyContainer } from 'tsyringe';
import type { Clock, RemoteShell, Secrets, SettingsView, SqlClient } from '@handyrep/plugin-sdk';
import type { LoadedConfig } from '../config/load-config.js';
import type { CoreLogger } from '../logging/create-logger.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import type { StateStore } from '../state/state-store.js';
import { AlertService } from '../alerts/alert-service.js';
import { AvailabilityService } from '../availability/availability-service.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { FailoverCheck } from '../failover/failover-check.js';
import { FailoverExecutor } from '../failover/failover-executor.js';
import { ClusterObserver } from '../failover/cluster-observer.js';
import { QuorumFence } from '../failover/quorum-fence.js';
import { FormerMasters } from '../failover/former-masters.js';
import { SyncStandbys } from '../replication/sync-standbys.js';
import { ReplicationSlots } from '../replication/replication-slots.js';
import { JournalRecovery } from '../failover/journal-recovery.js';
import { MaintenanceMode } from '../cluster/maintenance-mode.js';
import { RemasterService } from '../replication/remaster-service.js';
import { SwitchoverScheduler } from '../failover/switchover-scheduler.js';
import { Tokens } from './tokens.js';
import type { SharedStateAccess } from './tokens.js';



/** The services one HandyRep instance is made of. */
export interface CoreServices {
  config: LoadedConfig;
  logger: CoreLogger;
  registry: ServerRegistry;
  stateStore: StateStore;
  plugins: PluginHost;
  clock: Clock;
  shell: RemoteShell;
  sql: SqlClient;
  secrets: Secrets;
  settings: SettingsView;
  sharedState: SharedStateAccess;
}

/**
 * A child container per HandyRep instance, so two instances in one process
 * (tests, several clusters) never share state. The only place tsyringe is wired.
 */
export function createInstanceContainer(services: CoreServices): DependencyContainer {
  const child = container.createChildContainer();
  for (const key of Object.keys(Tokens) as (keyof typeof Tokens)[]) {
    child.register(Tokens[key], { useValue: services[key] });
  }
  // Services that hold state (or are costly to build) live once per instance.
  child.registerSingleton(ActingGuard);
  child.registerSingleton(ClusterIssues);
  child.registerSingleton(MaintenanceMode);
  child.registerSingleton(AlertService);
  child.registerSingleton(AvailabilityService);
  child.registerSingleton(RemasterService);
  child.registerSingleton(ClusterObserver);
  child.registerSingleton(SyncStandbys);
  child.registerSingleton(ReplicationSlots);
  child.registerSingleton(QuorumFence);
  child.registerSingleton(FormerMasters);
  child.registerSingleton(JournalRecovery);
  child.registerSingleton(FailoverExecutor);
  child.registerSingleton(FailoverCheck);
  child.registerSingleton(SwitchoverScheduler);
  return child;
}
