import { posix } from 'node:path';
import {
  BadArgumentError,
  cleanOutput,
  cloneFailure,
  fail,
  isRegistryMaster,
  lastLines,
  prepareCloneTarget,
  removeFailedCopy,
  resolveCloneServers,
  success,
  writeStandbySettings,
} from '@handyrep/plugin-sdk';
import type { CloneOutcome, CloneRequest, CloneServers, PluginContext, SqlSession } from '@handyrep/plugin-sdk';
import type { CloneRsyncConfig } from './config.js';
import { controlFileArgv, dataDirectoryArgv, parseRsyncStats, rsyncScript, sshCommand } from './rsync-command.js';
import type { RsyncStats, SshHop } from './rsync-command.js';

/** Extra SSH time beyond the remote `timeout`s, so the source always gives up first. */
const SSH_GRACE_MS = 30_000;

/** What pg_backup_stop returns. */
interface BackupStop {
  lsn: string;
  labelfile: string;
  spcmapfile: string | null;
}

/** The source's SSH settings for its hop to the target: its own keys first, then the plugin's. */
function sshHop(context: PluginContext<CloneRsyncConfig>, source: string): SshHop {
  const definition = context.servers.get(source);
  const own = (key: string): string => {
    const value = definition[key];
    return typeof value === 'string' ? value : '';
  };
  const { config } = context;
  const key = own('rsync_ssh_key') || config.ssh_key;
  const knownHosts = own('rsync_known_hosts') || config.known_hosts;
  for (const [name, value] of [['rsync_ssh_key', key], ['rsync_known_hosts', knownHosts]] as const) {
    if (/[\s'"\\%]/.test(value)) throw new BadArgumentError(`server ${source}: ${name} ${JSON.stringify(value)} may not hold whitespace, quotes, \\ or %`);
  }
  return { key, knownHosts, strict: config.strict_host_key_checking, connectTimeoutSeconds: Math.min(30, config.command_timeout_seconds) };
}

/** Thrown inside the backup session to end it with a FAIL the caller returns as is. */
class CopyFailed extends Error {
  constructor(readonly outcome: CloneOutcome) {
    super(outcome.details);
  }
}

/**
 * clone_rsync's clone: the same refusals and emptying as clone_basebackup,
 * then, in one SQL session on the source, pg_backup_start, rsync run on the
 * source pushing its data directory to the target over SSH (pg_control
 * last), pg_backup_stop; backup_label (and tablespace_map) from
 * pg_backup_stop and the standby settings are written into the target. WAL is
 * not copied: the replica streams it from its upstream. A failed copy is
 * removed. Never starts the server.
 */
export async function cloneWithRsync(context: PluginContext<CloneRsyncConfig>, request: CloneRequest): Promise<CloneOutcome> {
  const { config, clock, logger, secrets } = context;
  const started = clock.now();
  const elapsed = (): number => clock.now() - started;
  const base = { target: String(request.target), source: String(request.source) };
  const quickMs = config.command_timeout_seconds * 1000;
  let servers: CloneServers;
  let hop: SshHop;
  try {
    servers = resolveCloneServers(context, request);
    hop = sshHop(context, servers.source.name);
  } catch (err) {
    return cloneFailure(`clone of ${base.target}`, base, err, elapsed(), secrets);
  }
  const { target, source, upstream } = servers;
  if (isRegistryMaster(context, target)) {
    return fail(`${target.name} is the master: refusing to clone over it; nothing touched`, { ...base, duration_ms: elapsed() });
  }
  let emptied = false;
  let copyStarted = false;
  try {
    const sshCmd = sshCommand(target, hop);
    const script = rsyncScript(
      dataDirectoryArgv(source, target, sshCmd, config.bwlimit_kbps),
      controlFileArgv(source, target, sshCmd),
      config.timeout_seconds,
      config.command_timeout_seconds,
    );
    const prepared = await prepareCloneTarget(context, target, request.reclone === true, quickMs, request.force === true);
    if (!prepared.ready) return fail(prepared.details, { ...base, duration_ms: elapsed(), ...prepared.fields });
    emptied = prepared.emptied;

    const label = `handyrep clone of ${target.name} from ${source.name}`;
    const sessionTarget = { server: source.name, statementTimeoutMs: config.timeout_seconds * 1000 };
    const { stop, stats } = await context.sql.withSession(sessionTarget, async (session) => {
      await refuseTablespaces(session, source.name);
      await session.query('SELECT pg_backup_start($1, $2)', [label, config.checkpoint === 'fast']);
      logger.info(`backup started on ${source.name}; rsync to ${target.name}`, { server: target.name, source: source.name });
      copyStarted = true;
      const copied = await context.shell.runScript(source.name, script, {
        timeoutMs: (config.timeout_seconds + config.command_timeout_seconds) * 1000 + SSH_GRACE_MS,
      });
      if (copied.exitCode !== 0) {
        const stderr = cleanOutput(copied.stderr, secrets);
        const why = copied.exitCode === 124 ? `did not finish within timeout_seconds = ${config.timeout_seconds}` : `failed: ${lastLines(stderr)}`;
        throw new CopyFailed(fail(`rsync from ${source.name} to ${target.name} ${why}`, { ...base, duration_ms: elapsed(), exit_code: copied.exitCode, stderr }));
      }
      // Ending the session without pg_backup_stop aborts the backup, which is what every failure above does.
      const rows = await session.query<{ lsn: string; labelfile: string; spcmapfile: string | null }>(
        'SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_backup_stop($1)',
        [config.wait_for_archive],
      );
      const row = rows[0];
      if (row === undefined || typeof row.labelfile !== 'string' || row.labelfile === '') throw new Error('pg_backup_stop returned no backup label');
      return { stop: row as BackupStop, stats: parseRsyncStats(copied.stdout) };
    });

    const pgdata = target.pgdata;
    await context.shell.writeFile(target.name, posix.join(pgdata, 'backup_label'), stop.labelfile, { mode: 0o600, timeoutMs: quickMs });
    if (stop.spcmapfile !== null && stop.spcmapfile !== '') {
      await context.shell.writeFile(target.name, posix.join(pgdata, 'tablespace_map'), stop.spcmapfile, { mode: 0o600, timeoutMs: quickMs });
    }
    const settings = await writeStandbySettings(context, target, upstream, config.replication_passfile, quickMs, request.slotName);
    copyStarted = false;
    const durationMs = elapsed();
    logger.info(`cloned ${target.name} from ${source.name} with rsync in ${durationMs} ms`, { server: target.name, bytes: stats?.bytes });
    return success(
      `${target.name} cloned from ${source.name} with rsync in ${durationMs} ms${describeStats(stats)}, backup ending at ${stop.lsn}` +
        `${emptied ? ', old data directory emptied first' : ''}; standby of ${upstream.name} (application_name ${target.name}), streams its WAL from there; not started`,
      {
        ...base,
        duration_ms: durationMs,
        ...(stats === undefined ? {} : { bytes_copied: stats.bytes, files_copied: stats.files }),
        emptied,
        backup_stop_lsn: stop.lsn,
        primary_conninfo: settings.primary_conninfo,
      },
    );
  } catch (err) {
    const failed = err instanceof CopyFailed ? err.outcome : cloneFailure(`clone of ${target.name} from ${source.name}`, base, err, elapsed(), secrets);
    if (!copyStarted) return { ...failed, emptied };
    const cleanup = await removeFailedCopy(context, target, quickMs);
    return { ...failed, details: `${failed.details}; ${cleanup.text}`, emptied: cleanup.removed };
  }
}

/** Tablespaces live outside the data directory, which this plugin copies alone: refuse rather than clone half. */
async function refuseTablespaces(session: SqlSession, source: string): Promise<void> {
  const rows = await session.query<{ names: string | null }>(
    "SELECT string_agg(spcname, ', ') AS names FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global')",
  );
  const names = rows[0]?.names;
  if (typeof names === 'string' && names !== '') {
    throw new BadArgumentError(`${source} has tablespaces (${names}) outside its data directory, which clone_rsync does not copy; use clone_basebackup`);
  }
}

function describeStats(stats: RsyncStats | undefined): string {
  return stats === undefined ? '' : ` (${stats.bytes} bytes in ${stats.files} files)`;
}
