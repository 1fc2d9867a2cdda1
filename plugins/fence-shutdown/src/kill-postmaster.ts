import { posix } from 'node:path';
import { errorCodeOf, errorMessage } from '@handyrep/plugin-sdk';
import type { RemoteShell } from '@handyrep/plugin-sdk';
import { killPostmasterScript } from './kill-postmaster-script.js';
import { neverReachedHost } from './never-reached-host.js';

/** What the escalation did. */
export interface KillOutcome {
  /** True when the postmaster was SIGKILLed (with its descendants). */
  killed: boolean;
  /** False only when nothing can have been done on the host (no pgdata, SSH refused): then nothing there will change. */
  mayHaveActed: boolean;
  /** Pids that got SIGKILL, the postmaster first. */
  killedPids: number[];
  /** What happened, for `details`. */
  detail: string;
}

const STATES: Readonly<Record<string, string>> = {
  T: 'stopped',
  t: 'stopped by a tracer',
  D: 'in uninterruptible sleep',
  R: 'running',
  S: 'sleeping',
  I: 'idle',
};

/** The script's `key value` lines; a key repeated keeps its last value. */
function parseReport(stdout: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) facts.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  return facts;
}

function pids(text: string | undefined): number[] {
  return (text ?? '').split(/\s+/).filter((word) => /^[1-9][0-9]*$/.test(word)).map(Number);
}

/** Turns the script's report into an outcome. Exported for tests. */
export function readKillReport(stdout: string, exitCode: number | null, stderr: string, pgdata: string): KillOutcome {
  const facts = parseReport(stdout);
  const pid = facts.get('pid') ?? '?';
  const argv0 = JSON.stringify(facts.get('argv0') ?? '');
  const nothing = (detail: string): KillOutcome => ({ killed: false, mayHaveActed: true, killedPids: [], detail });
  switch (facts.get('outcome')) {
    case 'killed': {
      const children = pids(facts.get('children'));
      const left = pids(facts.get('left'));
      const state = facts.get('state') ?? '?';
      const was = STATES[state] ?? `state ${state}`;
      const kids = children.length === 0 ? 'no descendants' : `${children.length} descendant(s) (${children.join(' ')})`;
      const stayed = left.length === 0 ? '' : `; still there after the wait: ${left.join(' ')}`;
      return {
        killed: true,
        mayHaveActed: true,
        killedPids: [Number(pid), ...children],
        detail: `SIGKILLed the postmaster (pid ${pid}, ${was}, ${argv0} in ${facts.get('cwd') ?? pgdata}) and ${kids}${stayed}`,
      };
    }
    case 'no_pid_file':
      return nothing(`no ${posix.join(pgdata, 'postmaster.pid')}: no postmaster to kill`);
    case 'unreadable_pid_file':
      return nothing(`${posix.join(pgdata, 'postmaster.pid')} cannot be read: nothing killed`);
    case 'bad_pid':
      return nothing(`postmaster.pid does not start with a process id (${JSON.stringify(facts.get('value') ?? '')}): nothing killed`);
    case 'not_running':
      return nothing(`postmaster.pid names pid ${pid}, which is not running: no postmaster to kill`);
    case 'not_postmaster':
      return nothing(`pid ${pid} from postmaster.pid is not a postgres postmaster (argv[0] ${argv0}; the PID was reused): not killed`);
    case 'other_data_dir':
      return nothing(`pid ${pid} is a postgres of another data directory (${facts.get('cwd') ?? '?'}, not ${pgdata}): not killed`);
    case 'cannot_verify':
      return nothing(`pid ${pid} from postmaster.pid could not be verified (its /proc entries cannot be read by the SSH user): not killed`);
    case 'kill_failed':
      return nothing(`kill -KILL ${pid} failed: ${facts.get('error') ?? 'no message'}`);
    default: {
      const said = stderr.trim().split('\n').at(-1) ?? '';
      return nothing(`the kill script reported nothing (exit code ${String(exitCode)}${said === '' ? '' : `, stderr: ${said}`})`);
    }
  }
}

/**
 * Kills a hung or unstoppable postmaster over SSH: reads its PID from
 * `<pgdata>/postmaster.pid`, makes sure that process really is the postmaster
 * of `pgdata`, and SIGKILLs it and its descendants. Never throws.
 */
export async function killPostmaster(shell: RemoteShell, server: string, pgdata: unknown, timeoutMs: number): Promise<KillOutcome> {
  if (typeof pgdata !== 'string' || !posix.isAbsolute(pgdata)) {
    return { killed: false, mayHaveActed: false, killedPids: [], detail: `no kill attempted: pgdata ${JSON.stringify(pgdata)} is not an absolute path` };
  }
  try {
    const result = await shell.runScript(server, killPostmasterScript(pgdata), { timeoutMs });
    return readKillReport(result.stdout, result.exitCode, result.stderr, pgdata);
  } catch (err) {
    return { killed: false, mayHaveActed: !neverReachedHost(errorCodeOf(err)), killedPids: [], detail: `kill over SSH failed: ${errorMessage(err)}` };
  }
}
