/** What every plugin instance may implement besides its kind's methods. */
export interface PluginInstanceBase {
  /** Releases connections, timers and files; called once when HandyRep closes. */
  close?(): Promise<void>;
}
