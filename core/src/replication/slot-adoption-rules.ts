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

/** What a replica's WAL receiver says about adopting it. */
export type AdoptionNeed =
  /** Streams from the master without any slot: give it its own. */
  | 'adopt'
  /** Streams through its own slot already. */
  | 'own_slot'
  /** Streams from the master through a slot that is not its own: left as it is. */
  | 'other_slot'
  /** Does not stream, or streams from another server (cascading): remaster's business, not housekeeping's. */
  | 'not_from_master';

/**
 * Whether a replica with this WAL receiver streams from the master (at
 * `host`:`port`) without any slot: only then is it given its slot. A replica
 * that streams through another slot is left on it: someone chose that slot (an
 * operator, another tool, or a second server definition naming the same
 * PostgreSQL), and moving it would leave that slot inactive, holding WAL on
 * the master, or, with two definitions of one server, move it back and forth
 * on every check.
 */
export function adoptionNeed(receiver: WalReceiver, master: { hostname: string; port: number }, slot: string): AdoptionNeed {
  if (receiver.status !== 'streaming') return 'not_from_master';
  if (receiver.sender_host !== master.hostname || receiver.sender_port !== master.port) return 'not_from_master';
  const current = receiver.slot_name ?? '';
  if (current === slot) return 'own_slot';
  return current === '' ? 'adopt' : 'other_slot';
}
