import { ArchiverMonitor, archiveCommandFor, archivePaths, commandFields, commandReason, fail, shellQuote, startArchiving, stopArchiving, success, timedServerAction } from '@handyrep/plugin-sdk';
import type { ArchivePaths, ArchivePlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import { archiveScript } from './archive-script.js';
import type { ArchiveLocalDirConfig } from './config.js';

/** The archive_local_dir instance: script push, touch-file start/stop and pg_stat_archiver health. */
export class LocalDirArchive implements ArchivePlugin {
  private readonly context: PluginContext<ArchiveLocalDirConfig>;
  /** Remembers failed_count per server between polls, to report new failures. */
  private readonly monitor = new ArchiverMonitor();

  constructor(context: PluginContext<ArchiveLocalDirConfig>) {
    this.context = context;
  }

  /** Writes the archive script (mode 0700) and runs its `--check`, which creates the archive directory. */
  pushScript(server: string): Promise<ReturnDictionary> {
    return this.act('pushScript', server, async (paths) => {
      const { shell, config, logger } = this.context;
      const script = archiveScript(paths, { fsync: config.fsync, copyTimeoutSeconds: config.copy_timeout_seconds });
      await shell.writeFile(server, paths.scriptPath, script, { mode: 0o700, timeoutMs: this.commandMs() });
      const info = this.info(paths);
      const check = await shell.runScript(server, `${shellQuote(paths.scriptPath)} --check`, { timeoutMs: this.commandMs() });
      if (check.exitCode !== 0) {
        logger.warn(`archive directory check failed on ${server}`, { server, exitCode: check.exitCode });
        return fail(`archive script written to ${paths.scriptPath} on ${server}, but the archive directory check failed: ${commandReason(check)}`, {
          ...info,
          ...commandFields(check),
        });
      }
      logger.info(`archive script pushed to ${server}`, { server, script: paths.scriptPath });
      return success(
        `archive script written to ${paths.scriptPath} on ${server}; archive directory ${paths.archiveDirectory} is ready. PostgreSQL must run it: archive_mode = on, archive_command = '${info.archive_command}'`,
        info,
      );
    });
  }

  /** Removes the touch file, so the script copies segments again. */
  start(server: string): Promise<ReturnDictionary> {
    return this.act('start', server, (paths) =>
      startArchiving(this.context, { server, paths, info: this.info(paths), commandTimeoutMs: this.commandMs() }, `copies segments to ${paths.archiveDirectory}`),
    );
  }

  /** Creates the touch file: the script then reports success without copying. */
  stop(server: string): Promise<ReturnDictionary> {
    return this.act('stop', server, (paths) => stopArchiving(this.context, { server, paths, info: this.info(paths), commandTimeoutMs: this.commandMs() }));
  }

  /** Archiving health from pg_stat_archiver on `server`, and whether the touch file stops it. */
  poll(server: string): Promise<ReturnDictionary> {
    return this.act('poll', server, async (paths) => {
      const queryTimeoutMs = Math.round(this.context.config.query_timeout_seconds * 1000);
      const polled = await this.monitor.poll(this.context, { server, paths, queryTimeoutMs, commandTimeoutMs: this.commandMs() });
      if (!polled.read) return fail(polled.details, { ...this.info(paths), archiving: polled.archiving, touch_file_present: polled.touchFilePresent });
      return { ...polled.verdict, script_path: paths.scriptPath, archive_directory: paths.archiveDirectory };
    });
  }

  private info(paths: ArchivePaths): { script_path: string; archive_directory: string; touch_file: string; archive_command: string } {
    return {
      script_path: paths.scriptPath,
      archive_directory: paths.archiveDirectory,
      touch_file: paths.touchFile,
      archive_command: archiveCommandFor(paths.scriptPath),
    };
  }

  /** Runs `work` with the master's paths; a throw (unusable setting, SSH failure, time-out) becomes a FAIL with error_code. */
  private act(action: string, server: string, work: (paths: ArchivePaths) => Promise<ReturnDictionary>): Promise<ReturnDictionary<{ duration_ms: number }>> {
    return timedServerAction(this.context, action, server, () => work(archivePaths(this.context.settings, this.context.config.script_path, this.context.servers.get(server))));
  }

  private commandMs(): number {
    return this.context.config.command_timeout_seconds * 1000;
  }
}
