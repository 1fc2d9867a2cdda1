import { homedir } from 'node:os';
import { join } from 'node:path';

/** Expands a leading `~/` (the config default for ssh_known_hosts is `~/.ssh/known_hosts`); Node does not. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}
