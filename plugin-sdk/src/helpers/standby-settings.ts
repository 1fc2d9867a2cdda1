import { posix } from 'node:path';
import type { PluginContext } from '../capabilities/plugin-context.js';
import { ErrorCodes, HandyRepError } from '../errors.js';
import { shellQuote } from '../shell-quote.js';
import { withPrimaryConninfo } from './auto-conf.js';
import { passfileLine, primaryConninfo, replicationTlsPairs } from './conninfo.js';
import { inDataDirectory } from './pg-server.js';
import type { PgServer } from './pg-server.js';

/** What was written to make a data directory a replica. */
export interface StandbySettings {
  /** The primary_conninfo written (no password in it). */
  primary_conninfo: string;
  /** The passfile written, or undefined when none was. */
  passfile: string | undefined;
}

/** The `[handyrep] replication_user` setting, `replicator` when unset. */
export function replicationUser(context: Pick<PluginContext<unknown>, 'settings'>): string {
  const user = context.settings.get('handyrep', 'replication_user');
  return typeof user === 'string' && user !== '' ? user : 'replicator';
}

/**
 * Makes `target`'s (stopped) data directory a streaming replica of
 * `upstream`: standby.signal first, then the replication password into a
 * 0600 passfile (when `passfileSetting`, relative to pgdata, is not empty and
 * a password is set), then primary_conninfo into postgresql.auto.conf with
 * application_name = the target's name (and replication_sslmode when set),
 * and primary_slot_name = `slotName` when given (the slot must already exist
 * on the upstream). Throws on any failed step.
 */
export async function writeStandbySettings(
  context: Pick<PluginContext<unknown>, 'settings' | 'secrets' | 'shell'>,
  target: PgServer,
  upstream: PgServer,
  passfileSetting: string,
  timeoutMs: number,
  slotName?: string,
): Promise<StandbySettings> {
  const user = replicationUser(context);
  const password = context.secrets.get('replication_password');
  const passfile = passfileSetting !== '' && password !== undefined ? inDataDirectory(target.pgdata, passfileSetting) : undefined;
  // First, so that from here on the copy can only ever start as a standby, never as a second master.
  await context.shell.writeFile(target.name, posix.join(target.pgdata, 'standby.signal'), '', { mode: 0o600, timeoutMs });
  if (passfile !== undefined && password !== undefined) {
    await context.shell.writeFile(target.name, passfile, passfileLine(user, password), { mode: 0o600, timeoutMs });
  }
  const conninfo = primaryConninfo({ host: upstream.hostname, port: upstream.port, user, applicationName: target.name, passfile, tls: replicationTlsPairs(context.settings) });
  const autoConf = posix.join(target.pgdata, 'postgresql.auto.conf');
  const read = await context.shell.runScript(
    target.name,
    ['step=read-postgresql.auto.conf', `f=${shellQuote(autoConf)}`, 'if [ -e "$f" ]; then cat -- "$f"; fi'].join('\n'),
    { timeoutMs },
  );
  if (read.exitCode !== 0) {
    throw new HandyRepError(ErrorCodes.REMOTE_COMMAND, `reading ${autoConf} on ${target.name} failed: ${read.stderr.trim()}`);
  }
  await context.shell.writeFile(target.name, autoConf, withPrimaryConninfo(read.stdout, conninfo, slotName), { mode: 0o600, timeoutMs });
  return { primary_conninfo: conninfo, passfile };
}
