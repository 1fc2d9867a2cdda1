import { ArchiverMonitor, archiveCommandFor, archivePaths, commandFields, commandReason, fail, shellQuote, startArchiving, stopArchiving, success, timedServerAction } from '@handyrep/plugin-sdk';
import type { ArchivePaths, ArchivePlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import { archiveScript } from './archive-script.js';
import type { RemoteScriptOptions } from './archive-script.js';
import { archiveTarget } from './archive-target.js';
import type { ArchiveTarget } from './archive-target.js';
import type { ArchiveRemoteConfig } from './config.js';

/** The local paths on the master plus the archive host. */
type RemotePaths = ArchivePaths & { target: ArchiveTarget };

/** The archive_remote instance: script push (segments go over ssh to the archive host), touch-file start/stop and pg_stat_archiver health. */
export class RemoteArchive implements ArchivePlugin {
  private readonly context: PluginContext<ArchiveRemoteConfig>;
  /** Remembers failed_count per server between polls, to report new failures. */
  private readonly monitor = new ArchiverMonitor();

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
    return this.act('start', server, (paths) =>
      startArchiving(
        this.context,
        { server, paths, info: this.info(paths), commandTimeoutMs: this.commandMs() },
        `sends segments to ${paths.archiveDirectory} on ${describeTarget(paths.target)}`,
      ),
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
      return { ...polled.verdict, script_path: paths.scriptPath, archive_server: paths.target.server, archive_directory: paths.archiveDirectory };
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

  /** Runs `work` with the master's paths and the archive host; a throw (unusable setting, SSH failure, time-out) becomes a FAIL with error_code. */
  private act(action: string, server: string, work: (paths: RemotePaths) => Promise<ReturnDictionary>): Promise<ReturnDictionary<{ duration_ms: number }>> {
    return timedServerAction(this.context, action, server, () => {
      const { settings, config, servers } = this.context;
      return work({ ...archivePaths(settings, config.script_path, servers.get(server)), target: archiveTarget(settings, servers) });
    });
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
