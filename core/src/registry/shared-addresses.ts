/** A server definition as the shared-address check needs it. */
export interface AddressedServer {
  name: string;
  role: unknown;
  hostname: unknown;
  port: unknown;
}

/** Roles that name a PostgreSQL server of the cluster (a pooler may well share a host with one, on its own port). */
const POSTGRES_ROLES: readonly unknown[] = ['master', 'replica'];

/**
 * Warnings for PostgreSQL servers defined more than once under different
 * names (same hostname and port). HandyRep treats each definition as its own
 * server: its own polls, its own failover candidate, its own replication
 * slot, so a second definition of one PostgreSQL is almost always a mistake
 * (a copied section, a renamed server left behind). A warning, not an error:
 * benchmarks and tests define one server several times on purpose.
 */
export function sharedAddressWarnings(servers: readonly AddressedServer[]): string[] {
  const byAddress = new Map<string, string[]>();
  for (const server of servers) {
    if (!POSTGRES_ROLES.includes(server.role)) continue;
    const address = `${String(server.hostname)}:${String(server.port)}`;
    byAddress.set(address, [...(byAddress.get(address) ?? []), server.name]);
  }
  return [...byAddress]
    .filter(([, names]) => names.length > 1)
    .map(
      ([address, names]) =>
        `servers ${names.join(', ')} all name the PostgreSQL at ${address}: HandyRep treats each as a server of its own (polls, failover candidates, replication slots); keep one definition per server`,
    );
}
