import { errorMessage, fail, shellQuote, success } from '@handyrep/plugin-sdk';
import type { ArchivePlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import { archiveCommandFor, archivePaths } from './archive-paths.js';
import type { ArchivePaths } from './archive-paths.js';
import { archiveScript } from './archive-script.js';
import type { RemoteScriptOptions } from './archive-script.js';
import { archiveTarget } from './archive-target.js';
import type { ArchiveTarget } from './archive-target.js';
import { ARCHIVER_QUERY, judgeArchiving } from './archiver-health.js';
import type { ArchiverRow } from './archiver-health.js';
import type { ArchiveRemoteConfig } from './config.js';
import { withDeadline } from './deadline.js';
import { commandFields, commandReason, failFromError } from './failure.js';

/** The local paths on the master plus the archive host. */
type RemotePaths = ArchivePaths & { target: ArchiveTarget };

/** Grace on top of the SQL time-outs before poll's backstop fires. */
const DEADLINE_GRACE_MS = 1000;

/** The archive_remote instance: script push (segments go over ssh to the archive host), touch-file start/stop and pg_stat_archiver health. */
export class RemoteArchive implements ArchivePlugin {
  private readonly context: PluginContext<ArchiveRemoteConfig>;
  /** failed_count seen at the previous poll, per server, to report new failures. */
  private readonly failedCounts = new Map<string, number>();

  constructor(context: PluginContext<ArchiveRemoteConfig>) {
    this.context = context;
  }

  /**
   * Writes the archive script (mode 0700) and runs its `--check` on the
   * master: the master's own ssh creates the archive directory on the archive
   * host, which proves the key, known_hosts entry and permissions work.
   */
  pushScript(server: string): Promise<ReturnDictionary> {
    return this.act('pushScript', server, async (paths) => {
      const { shell, config, logger } = this.context;
      await shell.writeFile(server, paths.scriptPath, archiveScript(paths, paths.target, this.scriptOptions()), {
        mode: 0o700,
        timeoutMs: this.commandMs(),
      });
      const info = this.info(paths);
      const check = await shell.runScript(server, `${shellQuote(paths.scriptPath)} --check`, {
        timeoutMs: this.commandMs() + config.ssh_connect_timeout_seconds * 1000,
      });
      if (check.exitCode !== 0) {
        logger.warn(`archive host check from ${server} failed`, { server, archiveServer: paths.target.server, exitCode: check.exitCode });
        return fail(
          `archive script written to ${paths.scriptPath} on ${server}, but ${server} could not prepare ${paths.archiveDirectory} on ${describeTarget(paths.target)} over ssh: ${commandReason(check)} (the OS user PostgreSQL runs as on ${server} needs key-based ssh to the archive host, with its host key known)`,
          { ...info, ...commandFields(check) },
        );
      }
      logger.info(`archive script pushed to ${server}`, { server, script: paths.scriptPath, archiveServer: paths.target.server });
      return success(
        `archive script written to ${paths.scriptPath} on ${server}; ${server} reaches ${describeTarget(paths.target)} and ${paths.archiveDirectory} is ready there. PostgreSQL must run it: archive_mode = on, archive_command = '${info.archive_command}'`,
        info,
      );
    });
  }

  /** Removes the touch file, so the script copies segments again. */
  start(server: string): Promise<ReturnDictionary> {
    return this.act('start', server, async (paths) => {
      const script = [
        `script=${shellQuote(paths.scriptPath)} touch=${shellQuote(paths.touchFile)}`,
        "if [ ! -x \"$script\" ]; then printf 'no archive script at %s (start_archiving pushes it)\\n' \"$script\" >&2; exit 3; fi",
        'if [ -e "$touch" ]; then rm -f -- "$touch" || exit 1; echo removed; fi',
        "if [ -e \"$touch\" ]; then printf 'the touch file %s is still there\\n' \"$touch\" >&2; exit 1; fi",
      ].join('\n');
      const result = await this.context.shell.runScript(server, script, { timeoutMs: this.commandMs() });
      if (result.exitCode !== 0) {
        return fail(`could not start archiving on ${server}: ${commandReason(result)}`, { ...this.info(paths), ...commandFields(result), archiving: 'unknown' });
      }
      const removed = result.stdout.includes('removed');
      this.context.logger.info(`archiving started on ${server}`, { server, touchFileRemoved: removed });
      return success(
        `archiving started on ${server}: ${removed ? `removed the touch file ${paths.touchFile}` : `no touch file ${paths.touchFile} was present`}; ${paths.scriptPath} sends segments to ${paths.archiveDirectory} on ${describeTarget(paths.target)}`,
        { ...this.info(paths), archiving: 'started', touch_file_removed: removed },
      );
    });
  }

  /** Creates the touch file: the script then reports success without copying. */
  stop(server: string): Promise<ReturnDictionary> {
    return this.act('stop', server, async (paths) => {
      const script = [
        `touch=${shellQuote(paths.touchFile)}`,
        'if [ -e "$touch" ]; then echo present; exit 0; fi',
        'touch -- "$touch" || exit 1',
        "if [ ! -e \"$touch\" ]; then printf 'the touch file %s was not created\\n' \"$touch\" >&2; exit 1; fi",
      ].join('\n');
      const result = await this.context.shell.runScript(server, script, { timeoutMs: this.commandMs() });
      if (result.exitCode !== 0) {
        return fail(`could not stop archiving on ${server}: ${commandReason(result)} (a full disk prevents creating the touch file)`, {
          ...this.info(paths),
          ...commandFields(result),
          archiving: 'unknown',
        });
      }
      const already = result.stdout.includes('present');
      this.context.logger.info(`archiving stopped on ${server}`, { server, alreadyStopped: already });
      return success(
        `archiving stopped on ${server}: ${already ? 'the touch file was already there' : 'created the touch file'} ${paths.touchFile}; the archive script now reports success without copying`,
        { ...this.info(paths), archiving: 'stopped', already_stopped: already },
      );
    });
  }

  /** Archiving health from pg_stat_archiver on `server`, and whether the touch file stops it. */
  poll(server: string): Promise<ReturnDictionary> {
    return this.act('poll', server, async (paths) => {
      const { config, sql, shell } = this.context;
      const timeoutMs = Math.round(config.query_timeout_seconds * 1000);
      const rows = withDeadline(
        sql.query<ArchiverRow>({ server, connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs }, ARCHIVER_QUERY),
        2 * timeoutMs + DEADLINE_GRACE_MS,
        `pg_stat_archiver query on ${server}`,
      );
      const touch = shell.run(server, ['test', '-e', paths.touchFile], { timeoutMs: this.commandMs() });
      const [rowsOutcome, touchOutcome] = await Promise.allSettled([rows, touch]);
      let touchFilePresent: boolean | null = null;
      let touchFileError: string | undefined;
      if (touchOutcome.status === 'rejected') touchFileError = errorMessage(touchOutcome.reason);
      else if (touchOutcome.value.exitCode === 0 || touchOutcome.value.exitCode === 1) touchFilePresent = touchOutcome.value.exitCode === 0;
      else touchFileError = commandReason(touchOutcome.value);
      const row = rowsOutcome.status === 'fulfilled' ? rowsOutcome.value[0] : undefined;
      if (row === undefined) {
        const why = rowsOutcome.status === 'rejected' ? errorMessage(rowsOutcome.reason) : 'pg_stat_archiver returned no row';
        return fail(`cannot read archiving status on ${server}: ${why}`, {
          ...this.info(paths),
          archiving: touchFilePresent === true ? 'stopped' : 'unknown',
          touch_file_present: touchFilePresent,
        });
      }
      const verdict = judgeArchiving({
        server,
        row,
        touchFilePresent,
        ...(touchFileError === undefined ? {} : { touchFileError }),
        touchFile: paths.touchFile,
        scriptPath: paths.scriptPath,
        previousFailedCount: this.failedCounts.get(server),
      });
      if (verdict.failed_count !== null) this.failedCounts.set(server, verdict.failed_count);
      return { ...verdict, script_path: paths.scriptPath, archive_server: paths.target.server, archive_directory: paths.archiveDirectory };
    });
  }

  private info(paths: RemotePaths): { script_path: string; archive_server: string; archive_directory: string; touch_file: string; archive_command: string } {
    return {
      script_path: paths.scriptPath,
      archive_server: paths.target.server,
      archive_directory: paths.archiveDirectory,
      touch_file: paths.touchFile,
      archive_command: archiveCommandFor(paths.scriptPath),
    };
  }

  private async act(
    action: string,
    server: string,
    work: (paths: RemotePaths) => Promise<ReturnDictionary>,
  ): Promise<ReturnDictionary<{ duration_ms: number }>> {
    const started = this.context.clock.now();
    let result: ReturnDictionary;
    try {
      const { settings, config, servers } = this.context;
      const paths = { ...archivePaths(settings, config.script_path, servers.get(server)), target: archiveTarget(settings, servers) };
      result = await work(paths);
    } catch (err) {
      result = failFromError(action, server, err);
      this.context.logger.warn(result.details, { server, action });
    }
    return { ...result, duration_ms: this.context.clock.now() - started };
  }

  private scriptOptions(): RemoteScriptOptions {
    const { config } = this.context;
    return {
      fsync: config.fsync,
      copyTimeoutSeconds: config.copy_timeout_seconds,
      connectTimeoutSeconds: config.ssh_connect_timeout_seconds,
      identityFile: config.ssh_identity_file,
      knownHostsFile: config.ssh_known_hosts_file,
      strictHostKeyChecking: config.strict_host_key_checking,
    };
  }

  private commandMs(): number {
    return this.context.config.command_timeout_seconds * 1000;
  }
}

function describeTarget(target: ArchiveTarget): string {
  return `${target.server} (${target.user}@${target.host}, port ${target.port})`;
}
