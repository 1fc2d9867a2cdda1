/** A server as slot adoption needs it. */
export interface AdoptionServer {
  name: string;
  role: string;
  enabled: boolean;
  /** The slot it should stream through (slotNameOf). */
  slot: string;
  /** Its last status name: a server that is down is not asked about its WAL receiver. */
  status: string;
}

/** Statuses of a server that does not answer: asking it would only wait out a connect timeout on every check. */
const UNREACHABLE_STATUSES: readonly string[] = ['down', 'unavailable'];

/**
 * The replicas worth asking whether they stream without their slot: enabled
 * replicas that answer and whose slot is not active on the master. A replica
 * whose slot is active streams through it (the slot is its own: names are
 * never shared), so the steady state costs no query at all.
 */
export function adoptionCandidates(master: string, servers: readonly AdoptionServer[], activeSlots: readonly string[]): AdoptionServer[] {
  const active = new Set(activeSlots);
  return servers.filter((server) => server.name !== master && server.role === 'replica' && server.enabled && !UNREACHABLE_STATUSES.includes(server.status) && !active.has(server.slot));
}

/** A replica's pg_stat_wal_receiver row. */
export interface WalReceiver {
  status: string;
  sender_host: string | null;
  sender_port: number | null;
  /** '' or null when it streams through no slot. */
  slot_name: string | null;
}

/**
 * Whether a replica with this WAL receiver streams from the master (at
 * `host`:`port`) but not through `slot`: only then is it given its slot. A
 * replica that does not stream, or streams from another replica (cascading),
 * is left alone: its upstream is remaster's business, not housekeeping's.
 */
export function streamsWithoutSlot(receiver: WalReceiver, master: { hostname: string; port: number }, slot: string): boolean {
  if (receiver.status !== 'streaming') return false;
  if (receiver.sender_host !== master.hostname || receiver.sender_port !== master.port) return false;
  return (receiver.slot_name ?? '') !== slot;
}
