import { BadArgumentError } from '@handyrep/plugin-sdk';
import type { ServerView, SettingsView } from '@handyrep/plugin-sdk';

/** How the master's ssh reaches the archive host. */
export interface ArchiveTarget {
  /** The archive server's name in the registry. */
  server: string;
  /** Its host name or address, as the master resolves it. */
  host: string;
  /** Its SSH user (the server's `ssh_user`). */
  user: string;
  /** Its SSH port (the server's `ssh_port`). */
  port: number;
}

/**
 * The `[archive] archive_server` as an SSH target. The master connects with
 * the same user and port HandyRep uses for that server.
 */
export function archiveTarget(settings: SettingsView, servers: ServerView): ArchiveTarget {
  const name = settings.get('archive', 'archive_server');
  if (typeof name !== 'string' || name === '') {
    throw new BadArgumentError('archive_remote needs [archive] archive_server: the server (role archive) that holds the archive');
  }
  const definition = servers.get(name);
  const user = definition['ssh_user'] ?? 'postgres';
  const port = definition['ssh_port'] ?? 22;
  if (typeof user !== 'string' || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(user)) {
    throw new BadArgumentError(`archive server ${name} has an unusable ssh_user ${JSON.stringify(user)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new BadArgumentError(`archive server ${name} has an invalid ssh_port ${JSON.stringify(port)}`);
  }
  if (definition.hostname === '' || /[\s\0]/.test(definition.hostname)) {
    throw new BadArgumentError(`archive server ${name} has an unusable hostname ${JSON.stringify(definition.hostname)}`);
  }
  return { server: name, host: definition.hostname, user, port };
}
