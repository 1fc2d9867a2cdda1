/** What a rolling restart found about one PostgreSQL server before it starts. */
export interface RestartFacts {
  /** Server name. */
  name: string;
  /** Settings that wait for a restart (`pg_settings.pending_restart`). */
  pendingSettings: readonly string[];
  /** The directory of the running postgres executable (`pg_config` BINDIR), when it could be read. */
  runningBinDir: string | undefined;
  /** The configured `pg_bin`, when set. */
  configuredBinDir: string | undefined;
  /** Never promoted (`nofailover`): restarted first, never the switchover target. */
  nofailover: boolean;
  /** `failover_priority`: lower is preferred as a switchover target, so it is restarted later. */
  failoverPriority: number;
}

/** The cluster as the rolling restart found it. */
export interface RestartObservation {
  /** The enabled master. */
  master: RestartFacts;
  /** Whether the master answered its poll. */
  masterUp: boolean;
  /** Every enabled replica. */
  replicas: readonly RestartFacts[];
  /** The replicas that stream from the master right now (pg_stat_replication there). */
  streaming: ReadonlySet<string>;
  /** Whether the master has a clone plugin, which it needs to rejoin as a replica after a switchover. */
  masterCanRejoin: boolean;
}

/** What the caller asked for. */
export interface RestartRequest {
  /** Only servers with settings pending a restart, or running other binaries than `pg_bin`. */
  pendingOnly: boolean;
  /** Switch over to a restarted replica instead of restarting the master in place. */
  switchover: boolean;
}

/** One server the plan restarts, and why. */
export interface PlannedRestart {
  server: string;
  reasons: string[];
}

/** One server the plan leaves alone, and why. */
export interface SkippedServer {
  server: string;
  reason: string;
}

/** What happens to the master once every replica is done. */
export type MasterPlan =
  | { action: 'switchover'; server: string; reasons: string[] }
  | { action: 'restart'; server: string; reasons: string[] }
  | { action: 'skip'; server: string; reason: string };

/** The rolling restart to run, or why it must not start. */
export type RestartPlan =
  | { start: false; reason: string }
  | { start: true; replicas: PlannedRestart[]; skipped: SkippedServer[]; master: MasterPlan };

/** Compares directory paths without caring about trailing slashes. */
function sameDirectory(a: string, b: string): boolean {
  const trim = (path: string): string => path.replace(/\/+$/, '') || '/';
  return trim(a) === trim(b);
}

/** Why a server needs a restart; empty when it needs none. */
export function restartReasons(facts: RestartFacts): string[] {
  const reasons: string[] = [];
  if (facts.pendingSettings.length > 0) reasons.push(`settings pending a restart: ${facts.pendingSettings.join(', ')}`);
  if (facts.configuredBinDir !== undefined && facts.runningBinDir !== undefined && !sameDirectory(facts.configuredBinDir, facts.runningBinDir)) {
    reasons.push(`runs binaries from ${facts.runningBinDir}, pg_bin is ${facts.configuredBinDir}`);
  }
  return reasons;
}

/**
 * The order replicas are restarted in: the ones never promoted first, then
 * the least preferred switchover targets, so the preferred target has been
 * restarted last and has the least time to fall behind before the switchover.
 */
export function replicaOrder(replicas: readonly RestartFacts[]): RestartFacts[] {
  return [...replicas].sort((a, b) => {
    if (a.nofailover !== b.nofailover) return a.nofailover ? -1 : 1;
    if (a.failoverPriority !== b.failoverPriority) return b.failoverPriority - a.failoverPriority;
    return a.name.localeCompare(b.name);
  });
}

/** Refuses an unhealthy cluster; otherwise decides which servers to restart, in what order, and what to do with the master. */
export function planRollingRestart(observation: RestartObservation, request: RestartRequest): RestartPlan {
  const { master } = observation;
  if (!observation.masterUp) return { start: false, reason: `the master ${master.name} does not answer its poll` };
  const notStreaming = observation.replicas.filter((replica) => !observation.streaming.has(replica.name)).map((replica) => replica.name);
  if (notStreaming.length > 0) {
    return { start: false, reason: `not every enabled replica streams from ${master.name}: ${notStreaming.join(', ')} ${notStreaming.length === 1 ? 'does' : 'do'} not` };
  }
  const replicas: PlannedRestart[] = [];
  const skipped: SkippedServer[] = [];
  for (const replica of replicaOrder(observation.replicas)) {
    const reasons = restartReasons(replica);
    if (request.pendingOnly && reasons.length === 0) skipped.push({ server: replica.name, reason: 'no setting pending a restart and running the configured binaries' });
    else replicas.push({ server: replica.name, reasons: reasons.length > 0 ? reasons : ['restart requested'] });
  }
  const masterReasons = restartReasons(master);
  if (request.pendingOnly && masterReasons.length === 0) {
    return { start: true, replicas, skipped, master: { action: 'skip', server: master.name, reason: 'no setting pending a restart and running the configured binaries' } };
  }
  const reasons = masterReasons.length > 0 ? masterReasons : ['restart requested'];
  if (!request.switchover) return { start: true, replicas, skipped, master: { action: 'restart', server: master.name, reasons } };
  if (!observation.replicas.some((replica) => !replica.nofailover)) {
    return { start: false, reason: 'switchover asked, but no enabled replica may be promoted (all are nofailover or there are none)' };
  }
  if (!observation.masterCanRejoin) {
    return { start: false, reason: `switchover asked, but ${master.name} has no clone_method to rejoin as a replica with afterwards` };
  }
  return { start: true, replicas, skipped, master: { action: 'switchover', server: master.name, reasons } };
}
