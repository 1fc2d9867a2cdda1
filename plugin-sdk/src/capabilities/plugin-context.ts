import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { PluginDirectory } from './plugin-directory.js';
import type { RemoteShell } from './remote-shell.js';
import type { Secrets } from './secrets.js';
import type { ServerView } from './server-view.js';
import type { SettingsView } from './settings-view.js';
import type { SqlClient } from './sql.js';

/**
 * Everything the core hands a plugin's factory. These are the only ways a
 * plugin reaches the outside world, so tests can replace every one of them.
 */
export interface PluginContext<Config = Record<string, unknown>> {
  /** The plugin's name as configured. */
  name: string;
  /** The plugin's own `[plugins.<name>]` section, validated with defaults applied. */
  config: Readonly<Config>;
  /** Logger tagged with the plugin's name. */
  logger: Logger;
  /** Read view of the server registry. */
  servers: ServerView;
  /** Non-secret settings of the core sections. */
  settings: SettingsView;
  /** SSH and local commands. */
  shell: RemoteShell;
  /** SQL connections. */
  sql: SqlClient;
  /** `[passwords]`. */
  secrets: Secrets;
  /** Time. */
  clock: Clock;
  /** Other loaded plugins. */
  plugins: PluginDirectory;
}
