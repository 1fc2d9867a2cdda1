import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** A control command's return dictionary, with what the tool said. */
export type ControlResult = ReturnDictionary<{
  /** Exit code of the underlying command, when one ran. */
  exit_code?: number | null;
  /** Its standard error, trimmed. */
  stderr?: string;
}>;

/** `restart_method`: starts, stops and reloads PostgreSQL on a server. */
export interface ControlPlugin extends PluginInstanceBase {
  /** Starts the server and waits until it accepts connections. */
  start(server: string): Promise<ControlResult>;
  /** Stops the server in fast mode and waits until it is down. */
  stop(server: string): Promise<ControlResult>;
  /** Stops the server in immediate mode (for fencing) and waits until it is down. */
  faststop(server: string): Promise<ControlResult>;
  /** Restarts the server and waits until it accepts connections. */
  restart(server: string): Promise<ControlResult>;
  /** Makes the server re-read its configuration. */
  reload(server: string): Promise<ControlResult>;
  /** SUCCESS with `running` telling whether the server's postmaster runs. */
  status(server: string): Promise<ControlResult & { running: boolean }>;
}
