import { posix } from 'node:path';
import { BadArgumentError } from '@handyrep/plugin-sdk';
import type { ServerDefinition } from '@handyrep/plugin-sdk';

/**
 * Characters live inside double quotes in /bin/sh. pg_ctl pastes `-D` into
 * a /bin/sh command line in double quotes when the directory looks like a
 * config-only one, so such a path could run as shell code on the server.
 */
const SHELL_LIVE_IN_DOUBLE_QUOTES = /["$`\\\n]/;

function pathKey(definition: Readonly<ServerDefinition>, key: string): string {
  const value = definition[key];
  if (typeof value !== 'string' || value === '') {
    throw new BadArgumentError(`server ${definition.name}: '${key}' must be set (a non-empty path), got ${JSON.stringify(value)}`);
  }
  if (SHELL_LIVE_IN_DOUBLE_QUOTES.test(value)) {
    throw new BadArgumentError(
      `server ${definition.name}: ${key} ${JSON.stringify(value)} contains a character (" $ \` \\ or a newline) that pg_ctl passes to /bin/sh unescaped; refusing to run pg_ctl with it`,
    );
  }
  return value;
}

/** `<pg_bin>/pg_ctl promote -D <pgdata> -w -t <seconds>` for a server; throws BadArgumentError on a missing or unsafe path. */
export function promoteArgv(definition: Readonly<ServerDefinition>, waitSeconds: number): string[] {
  const pgdata = pathKey(definition, 'pgdata');
  if (!posix.isAbsolute(pgdata)) throw new BadArgumentError(`server ${definition.name}: 'pgdata' must be an absolute path, got ${JSON.stringify(pgdata)}`);
  return [posix.join(pathKey(definition, 'pg_bin'), 'pg_ctl'), 'promote', '-D', pgdata, '-w', '-t', String(waitSeconds)];
}
