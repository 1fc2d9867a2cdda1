import { Counter, Gauge, Registry } from 'prom-client';
import type { HandyRep } from '../handyrep.js';

/**
 * Prometheus metrics, read from HandyRep at scrape time (collect callbacks),
 * so nothing has to be pushed from the failover code.
 */
export function createMetrics(hr: HandyRep): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'handyrep_cluster_status',
    help: 'Cluster status number (0 unknown, 1 healthy, 3 warning, 5 down)',
    registers: [registry],
    async collect() {
      const status = await hr.getClusterStatus();
      if ('status_no' in status) this.set(status.status_no);
    },
  });
  new Gauge({
    name: 'handyrep_server_status',
    help: 'Server status number (0 unknown, 1 healthy, 2 lagged, 3 warning, 4 unavailable, 5 down)',
    labelNames: ['server', 'role', 'enabled'],
    registers: [registry],
    async collect() {
      this.reset();
      const status = await hr.getStatus();
      if (!('servers' in status)) return;
      for (const [name, server] of Object.entries(status.servers)) {
        this.set({ server: name, role: server.role, enabled: String(server.enabled) }, server.status_no);
      }
    },
  });
  new Gauge({
    name: 'handyrep_replica_lag_megabytes',
    help: 'Replica replay lag measured on the master at the last verification (MB)',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, lag] of hr.observations().replicaLagMb) this.set({ server: name }, lag);
    },
  });
  new Gauge({
    name: 'handyrep_poll_duration_seconds',
    help: 'Duration of the latest poll of each server',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, ms] of hr.observations().pollDurationsMs) this.set({ server: name }, ms / 1000);
    },
  });
  new Counter({
    name: 'handyrep_failovers_total',
    help: 'Failovers run by this instance, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const { SUCCESS, FAIL } = hr.observations().failovers;
      this.inc({ outcome: 'success' }, SUCCESS);
      this.inc({ outcome: 'fail' }, FAIL);
    },
  });
  new Gauge({
    name: 'handyrep_replication_slot_retained_wal_bytes',
    help: "WAL bytes each of the master's replication slots holds back (pg_current_wal_lsn() - restart_lsn) at the last check",
    labelNames: ['slot', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const slot of hr.observations().replicationSlots) {
        if (slot.retained_wal_bytes !== null) this.set({ slot: slot.slot_name, server: slot.server ?? '' }, slot.retained_wal_bytes);
      }
    },
  });
  new Gauge({
    name: 'handyrep_replication_slot_active',
    help: "1 while a walsender uses the master's replication slot, 0 when inactive, at the last check",
    labelNames: ['slot', 'server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const slot of hr.observations().replicationSlots) this.set({ slot: slot.slot_name, server: slot.server ?? '' }, slot.active ? 1 : 0);
    },
  });
  new Gauge({
    name: 'handyrep_paused',
    help: '1 while HandyRep is in maintenance mode',
    registers: [registry],
    collect() {
      this.set(hr.pausedSince() === undefined ? 0 : 1);
    },
  });
  return registry;
}
