import { errorMessage } from '@handyrep/plugin-sdk';
import type { Runtime } from '../runtime.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { asJournal, JOURNAL_KEY } from './failover-journal.js';
import { FailoverExecutor } from './failover-executor.js';
import { AvailabilityService } from '../availability/availability-service.js';
import { Tokens } from '../di/tokens.js';

/** How long to wait for a promotion that may still be completing after a crash. */
const PROMOTION_SETTLE_MS = 10_000;

/**
 * A process that died in the middle of a failover left its journal in the
 * saved state. At the next start we find out what happened instead of
 * failing over again: a candidate that left recovery was promoted (finish the
 * registry update, never promote another); one still in recovery was not.
 * When the candidate cannot be asked, the journal stays and failovers are
 * refused until an operator looks.
 */
export async function recoverInterruptedFailover(runtime: Runtime): Promise<void> {
  const { registry, logger, container, loaded, clock } = runtime;
  const journal = asJournal(registry.getExtra(JOURNAL_KEY));
  if (!journal) return;
  const issues = container.resolve(ClusterIssues);
  const availability = container.resolve(AvailabilityService);
  logger.warn(`found an interrupted failover from ${journal.old_master} (stage ${journal.stage}); recovering`, { component: 'failover' });

  const candidate = journal.candidate;
  if (journal.stage === 'started' || candidate === null || !registry.has(candidate)) {
    registry.setExtra(JOURNAL_KEY, undefined);
    issues.set('interrupted_failover', `a failover from ${journal.old_master} was interrupted before any promotion; nothing was promoted`);
    availability.refreshCluster();
    await runtime.stateStore.requestSave();
    return;
  }

  const settings = loaded.config.handyrep;
  const deadline = clock.now() + PROMOTION_SETTLE_MS;
  let inRecovery: boolean | undefined;
  let lastError = '';
  while (clock.now() < deadline) {
    try {
      const rows = await runtime.container
        .resolve(Tokens.sql)
        .query<{ in_recovery: boolean }>({ server: candidate, connectTimeoutMs: settings.connect_timeout * 1000, statementTimeoutMs: 3000 }, 'SELECT pg_is_in_recovery() AS in_recovery');
      inRecovery = rows[0]?.in_recovery;
      if (inRecovery === false) break;
    } catch (err) {
      lastError = errorMessage(err);
    }
    await clock.sleep(500);
  }

  if (inRecovery === false) {
    const current = registry.master();
    if (current?.name !== candidate && registry.has(journal.old_master)) {
      container.resolve(FailoverExecutor).swapMaster(journal.old_master, candidate, `failover completed after a restart of HandyRep (interrupted at stage ${journal.stage})`);
    }
    issues.set(
      'interrupted_failover',
      `a failover from ${journal.old_master} to ${candidate} was interrupted after the promotion; the registry was completed, check proxies (connection_proxy_init) and replicas (remaster)`,
    );
    registry.setExtra(JOURNAL_KEY, undefined);
  } else if (inRecovery === true) {
    issues.set('interrupted_failover', `a failover from ${journal.old_master} was interrupted; ${candidate} was not promoted`);
    registry.setExtra(JOURNAL_KEY, undefined);
  } else {
    issues.set(
      'interrupted_failover',
      `a failover from ${journal.old_master} was interrupted while promoting ${candidate}, which does not answer (${lastError}); failovers are refused until an operator checks which server is the master`,
    );
  }
  availability.refreshCluster();
  await runtime.stateStore.requestSave();
}
