import type { PluginContext } from '../capabilities/plugin-context.js';
import { errorMessage } from '../errors.js';
import { commandFields, commandReason } from '../helpers/command-output.js';
import { fail, success } from '../return-dictionary.js';
import type { ReturnDictionary } from '../return-dictionary.js';
import { shellQuote } from '../shell-quote.js';
import { withTimeout } from '../with-timeout.js';
import type { ArchivePaths } from './archive-paths.js';
import { ARCHIVER_QUERY, judgeArchiving } from './archiver-health.js';
import type { ArchiveHealth, ArchiverRow } from './archiver-health.js';

/** One start or stop of archiving on one master by a touch-file archive plugin. */
export interface TouchFileRequest<Info extends object> {
  /** The master. */
  server: string;
  /** Its archive script, touch file and archive directory. */
  paths: ArchivePaths;
  /** Keys every result carries (script_path, archive_directory, touch_file, archive_command...). */
  info: Info;
  /** SSH time-out of the command, in milliseconds. */
  commandTimeoutMs: number;
}

/**
 * The script that starts archiving: fails (exit 3) when the archive script is
 * missing, removes the touch file and prints `removed` when there was one.
 */
export function removeTouchFileScript(paths: Pick<ArchivePaths, 'scriptPath' | 'touchFile'>): string {
  return [
    `script=${shellQuote(paths.scriptPath)} touch=${shellQuote(paths.touchFile)}`,
    "if [ ! -x \"$script\" ]; then printf 'no archive script at %s (start_archiving pushes it)\\n' \"$script\" >&2; exit 3; fi",
    'if [ -e "$touch" ]; then rm -f -- "$touch" || exit 1; echo removed; fi',
    "if [ -e \"$touch\" ]; then printf 'the touch file %s is still there\\n' \"$touch\" >&2; exit 1; fi",
  ].join('\n');
}

/** The script that stops archiving: creates the touch file, or prints `present` when it already exists. */
export function createTouchFileScript(touchFile: string): string {
  return [
    `touch=${shellQuote(touchFile)}`,
    'if [ -e "$touch" ]; then echo present; exit 0; fi',
    'touch -- "$touch" || exit 1',
    "if [ ! -e \"$touch\" ]; then printf 'the touch file %s was not created\\n' \"$touch\" >&2; exit 1; fi",
  ].join('\n');
}

/**
 * Starts archiving on `request.server` by removing the touch file, so the
 * script archives again; `scriptAction` says what the script then does, after
 * its path (e.g. `copies segments to /archive`). Throws on an SSH failure.
 */
export async function startArchiving<Info extends object>(
  context: Pick<PluginContext<unknown>, 'shell' | 'logger'>,
  request: TouchFileRequest<Info>,
  scriptAction: string,
): Promise<ReturnDictionary> {
  const { server, paths, info } = request;
  const result = await context.shell.runScript(server, removeTouchFileScript(paths), { timeoutMs: request.commandTimeoutMs });
  if (result.exitCode !== 0) {
    return fail(`could not start archiving on ${server}: ${commandReason(result)}`, { ...info, ...commandFields(result), archiving: 'unknown' });
  }
  const removed = result.stdout.includes('removed');
  context.logger.info(`archiving started on ${server}`, { server, touchFileRemoved: removed });
  return success(
    `archiving started on ${server}: ${removed ? `removed the touch file ${paths.touchFile}` : `no touch file ${paths.touchFile} was present`}; ${paths.scriptPath} ${scriptAction}`,
    { ...info, archiving: 'started', touch_file_removed: removed },
  );
}

/** Stops archiving on `request.server` by creating the touch file: the script then reports success without copying. Throws on an SSH failure. */
export async function stopArchiving<Info extends object>(
  context: Pick<PluginContext<unknown>, 'shell' | 'logger'>,
  request: TouchFileRequest<Info>,
): Promise<ReturnDictionary> {
  const { server, paths, info } = request;
  const result = await context.shell.runScript(server, createTouchFileScript(paths.touchFile), { timeoutMs: request.commandTimeoutMs });
  if (result.exitCode !== 0) {
    return fail(`could not stop archiving on ${server}: ${commandReason(result)} (a full disk prevents creating the touch file)`, {
      ...info,
      ...commandFields(result),
      archiving: 'unknown',
    });
  }
  const already = result.stdout.includes('present');
  context.logger.info(`archiving stopped on ${server}`, { server, alreadyStopped: already });
  return success(
    `archiving stopped on ${server}: ${already ? 'the touch file was already there' : 'created the touch file'} ${paths.touchFile}; the archive script now reports success without copying`,
    { ...info, archiving: 'stopped', already_stopped: already },
  );
}

/** One archiving poll of one master. */
export interface ArchiverPollRequest {
  /** The master. */
  server: string;
  /** Its archive script and touch file. */
  paths: Pick<ArchivePaths, 'scriptPath' | 'touchFile'>;
  /** Connect and statement time-out of the pg_stat_archiver query, in milliseconds. */
  queryTimeoutMs: number;
  /** SSH time-out of the touch file check, in milliseconds. */
  commandTimeoutMs: number;
}

/** What a poll found: a verdict from pg_stat_archiver, or why there is none. */
export type ArchiverPoll =
  | {
      /** pg_stat_archiver was read. */
      read: true;
      /** `judgeArchiving`'s verdict. */
      verdict: ReturnDictionary<ArchiveHealth>;
    }
  | {
      /** pg_stat_archiver could not be read. */
      read: false;
      /** Why, for a FAIL's `details`. */
      details: string;
      /** `stopped` when the touch file is known to be there, else `unknown`. */
      archiving: 'stopped' | 'unknown';
      /** Whether the touch file exists; null when that could not be checked. */
      touchFilePresent: boolean | null;
    };

/** Grace on top of the SQL time-outs before poll's backstop fires. */
const DEADLINE_GRACE_MS = 1000;

/** Polls archiving health and remembers failed_count per server, so each poll reports the failures new since the previous one. */
export class ArchiverMonitor {
  /** failed_count seen at the previous poll, per server. */
  private readonly failedCounts = new Map<string, number>();

  /**
   * Reads pg_stat_archiver on the server and checks the touch file at the same
   * time, then judges with `judgeArchiving`. A failed touch file check is a
   * warning; an unreadable pg_stat_archiver is `read: false`. Never throws.
   */
  async poll(context: Pick<PluginContext<unknown>, 'sql' | 'shell'>, request: ArchiverPollRequest): Promise<ArchiverPoll> {
    const { server, paths, queryTimeoutMs } = request;
    const deadlineMs = 2 * queryTimeoutMs + DEADLINE_GRACE_MS;
    // The SQL client has its own time-outs; this backstop keeps poll bounded whatever client the core hands over.
    const rows = withTimeout(
      context.sql.query<ArchiverRow>({ server, connectTimeoutMs: queryTimeoutMs, statementTimeoutMs: queryTimeoutMs }, ARCHIVER_QUERY),
      deadlineMs,
      `pg_stat_archiver query on ${server} got no answer within ${deadlineMs} ms`,
    );
    const touch = context.shell.run(server, ['test', '-e', paths.touchFile], { timeoutMs: request.commandTimeoutMs });
    const [rowsOutcome, touchOutcome] = await Promise.allSettled([rows, touch]);
    let touchFilePresent: boolean | null = null;
    let touchFileError: string | undefined;
    if (touchOutcome.status === 'rejected') touchFileError = errorMessage(touchOutcome.reason);
    else if (touchOutcome.value.exitCode === 0 || touchOutcome.value.exitCode === 1) touchFilePresent = touchOutcome.value.exitCode === 0;
    else touchFileError = commandReason(touchOutcome.value);
    const row = rowsOutcome.status === 'fulfilled' ? rowsOutcome.value[0] : undefined;
    if (row === undefined) {
      const why = rowsOutcome.status === 'rejected' ? errorMessage(rowsOutcome.reason) : 'pg_stat_archiver returned no row';
      return { read: false, details: `cannot read archiving status on ${server}: ${why}`, archiving: touchFilePresent === true ? 'stopped' : 'unknown', touchFilePresent };
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
    return { read: true, verdict };
  }
}
