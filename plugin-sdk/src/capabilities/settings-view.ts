/** A read-only view of the non-secret configuration sections (`handyrep`, `failover`, `archive`). */
export interface SettingsView {
  /** One setting; undefined when not set and without default. `[passwords]` is never reachable. */
  get(section: string, key: string): unknown;
}
