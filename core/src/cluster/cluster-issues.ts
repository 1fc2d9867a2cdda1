/**
 * Cluster-level problems that are not any one server's status: a failover
 * that failed, a master only HandyRep cannot reach. They keep the cluster at
 * "warning" until cleared, as the spec's cluster rules ask.
 */
export class ClusterIssues {
  private readonly issues = new Map<string, string>();

  /** Records (or replaces) the issue under `key`. */
  set(key: string, message: string): void {
    this.issues.set(key, message);
  }

  /** Clears the issue under `key`. */
  clear(key: string): void {
    this.issues.delete(key);
  }

  /** The issue under `key`, if one is recorded. */
  get(key: string): string | undefined {
    return this.issues.get(key);
  }

  /** The current issues' messages. */
  list(): string[] {
    return [...this.issues.values()];
  }
}
