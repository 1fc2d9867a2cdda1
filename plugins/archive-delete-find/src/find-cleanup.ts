import { errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { ArchiveCleanupPlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import { cleanupScript, minutesFor, NO_DIRECTORY_EXIT, parseCleanupOutput } from './cleanup-script.js';
import { cleanupTarget } from './cleanup-target.js';
import type { ArchiveDeleteFindConfig } from './config.js';
import { DELETABLE_NAME } from './wal-names.js';

/** Longest stderr kept in a return dictionary; the end is kept. */
const MAX_STDERR_CHARS = 2000;

/** Extra keys of cleanup's return dictionary. */
export interface CleanupFields {
  /** WAL files deleted by this run. */
  deleted: number;
  /** WAL files left in the directory, when known. */
  remaining?: number | null;
  /** Alphabetically first deleted file (the oldest segment of the lowest timeline). */
  deleted_first?: string | null;
  /** Alphabetically last deleted file. */
  deleted_last?: string | null;
  /** The server the find ran on. */
  server?: string;
  /** The directory cleaned. */
  archive_directory?: string;
  /** The age limit as find saw it (-mmin +N). */
  older_than_minutes?: number;
  /** Exit status of the cleanup script. */
  exit_code?: number | null;
  /** Its trimmed standard error. */
  stderr?: string;
  /** Coded error when the script could not be run (time-out, SSH, settings). */
  error_code?: string | null;
  /** Wall time of the call. */
  duration_ms?: number;
}

/** The archive_delete_find instance. */
export class FindCleanup implements ArchiveCleanupPlugin {
  private readonly context: PluginContext<ArchiveDeleteFindConfig>;

  constructor(context: PluginContext<ArchiveDeleteFindConfig>) {
    this.context = context;
  }

  /** Deletes WAL files older than `[archive] archive_delete_hours`; `deleted` says how many. */
  async cleanup(): Promise<ReturnDictionary<CleanupFields>> {
    const started = this.context.clock.now();
    const took = (): number => this.context.clock.now() - started;
    let target;
    try {
      target = cleanupTarget(this.context.settings, this.context.servers);
    } catch (err) {
      return fail(`archive cleanup not run: ${errorMessage(err)}`, { deleted: 0, error_code: codeOf(err), duration_ms: took() });
    }
    const { server, directory, hours } = target;
    if (hours === 0) {
      // 0 would mean "delete every segment now", which no one wants from a cron job; treat it as "never".
      return success(`archive_delete_hours is 0: cleanup is disabled, nothing deleted in ${directory} on ${server}`, { deleted: 0, server, archive_directory: directory, duration_ms: took() });
    }
    const minutes = minutesFor(hours);
    const where = { server, archive_directory: directory, older_than_minutes: minutes };
    let result;
    try {
      result = await this.context.shell.runScript(server, cleanupScript(directory, minutes), { timeoutMs: this.context.config.command_timeout_seconds * 1000 });
    } catch (err) {
      this.context.logger.warn(`archive cleanup on ${server} failed`, { server, error: errorMessage(err) });
      return fail(`archive cleanup of ${directory} on ${server} failed: ${errorMessage(err)} (some files may have been deleted)`, {
        deleted: 0,
        ...where,
        error_code: codeOf(err),
        duration_ms: took(),
      });
    }
    const output = parseCleanupOutput(result.stdout);
    const unexpected = output.deleted.filter((name) => !DELETABLE_NAME.test(name));
    const fields = {
      deleted: output.deleted.length,
      remaining: output.remaining,
      deleted_first: output.deleted[0] ?? null,
      deleted_last: output.deleted[output.deleted.length - 1] ?? null,
      ...where,
      exit_code: result.exitCode,
      stderr: trimStderr(result.stderr),
      duration_ms: took(),
    };
    if (unexpected.length > 0) {
      // Cannot happen with the patterns used; if find ever reports another name, say so loudly.
      this.context.logger.error(`archive cleanup on ${server} reported non-WAL names`, { server, names: unexpected.slice(0, 10) });
    }
    if (result.exitCode === NO_DIRECTORY_EXIT) {
      return fail(`archive directory ${directory} does not exist on ${server}; nothing deleted`, fields);
    }
    if (result.exitCode !== 0) {
      this.context.logger.warn(`archive cleanup on ${server} incomplete`, { server, exitCode: result.exitCode, deleted: fields.deleted });
      return fail(
        `archive cleanup of ${directory} on ${server} failed (exit ${result.exitCode ?? 'by signal'}) after deleting ${fields.deleted} WAL file(s): ${fields.stderr || 'no message'}`,
        fields,
      );
    }
    this.context.logger.info(`archive cleanup on ${server}: ${fields.deleted} deleted`, { server, deleted: fields.deleted, remaining: fields.remaining });
    const range = fields.deleted > 0 ? ` (${fields.deleted_first} .. ${fields.deleted_last})` : '';
    return success(
      `deleted ${fields.deleted} WAL file(s) older than ${hours} hour(s) from ${directory} on ${server}${range}; ${fields.remaining ?? 'an unknown number of'} WAL file(s) remain`,
      fields,
    );
  }
}

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function trimStderr(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_STDERR_CHARS ? trimmed : `...${trimmed.slice(-MAX_STDERR_CHARS)}`;
}
