import { BadArgumentError, ErrorCodes, HandyRepError, UnknownServerError } from '@handyrep/plugin-sdk';
import type {
  ClusterStatusName,
  ServerDefinition,
  ServerStatusName,
  ServerView,
  StatusFields,
} from '@handyrep/plugin-sdk';
import { SERVER_NAME_PATTERN, STATUS_KEYS } from '../config/core-schema.js';
import { isClusterStatusFields, unknownClusterStatus } from '../status/cluster-status.js';
import { isServerStatusFields, unknownServerStatus } from '../status/server-status.js';
import { initialDefinitions } from './initial-definitions.js';
import type { ExplicitServer, RegistryInput } from './initial-definitions.js';
import { sharedAddressWarnings } from './shared-addresses.js';
import type { SavedState } from './state-file.js';

export type { RegistryInput } from './initial-definitions.js';

/** What a PropsValidator found. */
export interface PropsCheck {
  /**
   * A copy of the properties converted to the schema's types (the strings the
   * web API and CLI send: "true" → true, "5" → 5). When `problems` is empty,
   * this is exactly the value that was validated, and what the registry stores.
   */
  converted: Record<string, unknown>;
  /** The problems found, in words; empty when the properties are valid. */
  problems: string[];
}

/** Checks server properties against the config schema and converts them to its types. */
export type PropsValidator = (props: Readonly<Record<string, unknown>>) => PropsCheck;

/** What changed in the registry; every change should be persisted. */
export type RegistryChange =
  | { kind: 'status'; server: string }
  | { kind: 'definition'; server: string }
  | { kind: 'added'; server: string }
  | { kind: 'removed'; server: string }
  | { kind: 'cluster' }
  | { kind: 'extra'; key: string };

/** Called synchronously after each change; must not throw (errors go to `onListenerError`). */
export type RegistryListener = (change: RegistryChange) => void;

/** Optional collaborators of the registry. */
export interface RegistryOptions {
  /**
   * Schema check and type conversion of properties given to alter/add (keeps
   * the registry independent of ajv). Also converts loaded definitions
   * that are stored unconverted (a state file written before conversion).
   */
  validateProps?: PropsValidator;
  /** Clock for `updated_at` of snapshots. */
  now?: () => number;
  /** Receives errors thrown by listeners; default: a process warning. */
  onListenerError?: (err: unknown, change: RegistryChange) => void;
}

const SERVER_NAME = new RegExp(SERVER_NAME_PATTERN);
const OWNED_KEYS: readonly string[] = [...STATUS_KEYS, 'name'];
/** Roles whose role change while enabled would silently change what HandyRep polls, fails over to or fences. */
const GUARDED_ROLES: readonly string[] = ['master', 'replica'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Problems with the keys the SDK's ServerDefinition type promises. */
function coreKeyProblems(def: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof def.hostname !== 'string' || def.hostname === '') problems.push('hostname is required (a non-empty string)');
  if (typeof def.role !== 'string' || def.role === '') problems.push('role is required (a non-empty string)');
  if (typeof def.enabled !== 'boolean') problems.push('enabled must be true or false');
  if (!Number.isInteger(def.port) || (def.port as number) < 1 || (def.port as number) > 65535) {
    problems.push('port must be an integer from 1 to 65535');
  }
  return problems;
}

/**
 * The servers HandyRep manages: their definitions and statuses, the cluster
 * status, and extra state for later features.
 *
 * Effective definition = `server_defaults` < explicit keys (config at first
 * start, or the state file) < API changes, plus the name and status fields.
 * Every mutation is validated completely before anything changes, then
 * listeners registered with `onChange` are told, so the owner can persist the
 * state (`snapshot`) after each change.
 */
export class ServerRegistry {
  /** Config entries ignored at construction, for the caller to log. */
  readonly warnings: readonly string[];

  readonly #defaults: Record<string, unknown>;
  readonly #effectiveCache = new WeakMap<ExplicitServer, { explicit: Record<string, unknown>; status: StatusFields<ServerStatusName>; def: Record<string, unknown>; flat: boolean }>();
  readonly #servers = new Map<string, ExplicitServer>();
  readonly #listeners = new Set<RegistryListener>();
  readonly #validate: PropsValidator | undefined;
  readonly #now: () => number;
  readonly #onListenerError: (err: unknown, change: RegistryChange) => void;
  readonly #view: ServerView;
  #cluster: StatusFields<ClusterStatusName>;
  #extra: Record<string, unknown>;

  constructor(input: RegistryInput, options: RegistryOptions = {}) {
    this.#defaults = structuredClone(input.serverDefaults);
    this.#validate = options.validateProps;
    this.#now = options.now ?? Date.now;
    this.#onListenerError =
      options.onListenerError ??
      ((err, change) => process.emitWarning(`registry listener failed on ${change.kind} change: ${String(err)}`));
    const { servers, warnings } = initialDefinitions(input);
    const fromStateFile = input.saved !== undefined && !input.overrideServerFile;
    const problems: string[] = [];
    for (const server of servers) {
      const converted = this.#convertLoaded(server);
      if (converted.length > 0) warnings.push(`server ${server.name}: stored ${converted.join(', ')} converted to the schema's types`);
      if (!SERVER_NAME.test(server.name)) problems.push(`server name '${server.name}' does not match ${SERVER_NAME_PATTERN}`);
      problems.push(...coreKeyProblems(this.#effective(server)).map((p) => `server ${server.name}: ${p}`));
      this.#servers.set(server.name, server);
    }
    if (problems.length > 0) {
      const source = fromStateFile ? 'the state file' : 'the config';
      throw new HandyRepError(
        fromStateFile ? ErrorCodes.STATE_FILE : ErrorCodes.CONFIG_INVALID,
        `server definitions in ${source} are unusable: ${problems.join('; ')}`,
      );
    }
    warnings.push(...sharedAddressWarnings([...this.#servers.values()].map((server) => this.#effective(server))));
    this.warnings = Object.freeze(warnings);
    this.#cluster = structuredClone(input.saved?.cluster ?? unknownClusterStatus());
    this.#extra = structuredClone(input.saved?.extra ?? {});
    this.#view = this.#makeView();
  }

  /**
   * Replaces every definition, status, the cluster status and `extra` with a
   * saved state written by another HandyRep instance (shared state). Nothing
   * changes when the state's definitions are unusable.
   */
  adopt(saved: SavedState): void {
    const { servers } = initialDefinitions({ serverDefaults: this.#defaults, configServers: {}, saved, overrideServerFile: false });
    const problems = servers.flatMap((server) => [
      ...(SERVER_NAME.test(server.name) ? [] : [`server name '${server.name}' does not match ${SERVER_NAME_PATTERN}`]),
      ...coreKeyProblems(this.#effective(server)).map((p) => `server ${server.name}: ${p}`),
    ]);
    if (problems.length > 0) throw new HandyRepError(ErrorCodes.STATE_FILE, `shared state is unusable: ${problems.join('; ')}`);
    this.#servers.clear();
    for (const server of servers) this.#servers.set(server.name, server);
    this.#cluster = structuredClone(saved.cluster);
    this.#extra = structuredClone(saved.extra);
    this.#emit({ kind: 'cluster' });
  }

  /** Every server, in definition order (copies: changing them changes nothing). */
  list(): ServerDefinition[] {
    return [...this.#servers.values()].map((s) => this.#effective(s));
  }

  /** The named server (a copy); throws UnknownServerError. */
  get(name: string): ServerDefinition {
    return this.#effective(this.#entry(name));
  }

  /** True when the registry knows the name. */
  has(name: string): boolean {
    return this.#servers.has(name);
  }

  /**
   * The enabled master; undefined when there is none or when several are
   * enabled, because picking one of two would let callers act on a guess (see `masters`).
   */
  master(): ServerDefinition | undefined {
    const masters = this.masters();
    return masters.length === 1 ? masters[0] : undefined;
  }

  /** Every enabled master; more than one means the cluster needs an administrator. */
  masters(): ServerDefinition[] {
    return this.byRole('master');
  }

  /** Enabled servers with one of the roles, in definition order. */
  byRole(...roles: string[]): ServerDefinition[] {
    return this.list().filter((s) => s.enabled && roles.includes(s.role));
  }

  /** A live read-only view for plugins; every object it returns is a frozen copy. */
  view(): ServerView {
    return this.#view;
  }

  /** Replaces a server's status fields; they must be consistent (name matches number). */
  setStatus(name: string, fields: StatusFields<ServerStatusName>): void {
    const entry = this.#entry(name);
    if (!isServerStatusFields(fields)) throw new BadArgumentError(`inconsistent server status fields for ${name}: ${JSON.stringify(fields)}`);
    const next = { status: fields.status, status_no: fields.status_no, status_ts: fields.status_ts, status_message: fields.status_message };
    if (JSON.stringify(next) === JSON.stringify(entry.status)) return;
    entry.status = next;
    this.#emit({ kind: 'status', server: name });
  }

  /** Replaces the cluster status fields; they must be consistent. */
  setClusterStatus(fields: StatusFields<ClusterStatusName>): void {
    if (!isClusterStatusFields(fields)) throw new BadArgumentError(`inconsistent cluster status fields: ${JSON.stringify(fields)}`);
    const next = { status: fields.status, status_no: fields.status_no, status_ts: fields.status_ts, status_message: fields.status_message };
    if (JSON.stringify(next) === JSON.stringify(this.#cluster)) return;
    this.#cluster = next;
    this.#emit({ kind: 'cluster' });
  }

  /** The cluster status fields (a copy). */
  clusterStatus(): StatusFields<ClusterStatusName> {
    return { ...this.#cluster };
  }

  /**
   * alter_server_def: sets the given keys (setting a key to its current value
   * is allowed). Refuses status keys and `name`, a role change of an enabled
   * master or replica (disable it first), and anything that would make a
   * second enabled master. Nothing changes when it refuses.
   */
  alter(name: string, props: Record<string, unknown>): ServerDefinition {
    const entry = this.#entry(name);
    const given = this.#checkProps('alter_server_def', name, props);
    const before = this.#effective(entry);
    if ('role' in given && given.role !== before.role && before.enabled && GUARDED_ROLES.includes(before.role)) {
      throw new BadArgumentError(`server ${name} is an enabled ${before.role}; disable it before changing its role`);
    }
    const candidate: ExplicitServer = { ...entry, explicit: { ...entry.explicit, ...given } };
    this.#checkDefinition(candidate, before);
    if (JSON.stringify(candidate.explicit) === JSON.stringify(entry.explicit)) return before;
    entry.explicit = candidate.explicit;
    this.#emit({ kind: 'definition', server: name });
    return this.#effective(entry);
  }

  /**
   * add_server: a new server, always disabled whatever `props` says (the spec:
   * "New servers are always added as disabled"), `role` defaulting to replica,
   * `hostname` required, status unknown.
   */
  add(name: string, props: Record<string, unknown>): ServerDefinition {
    if (typeof name !== 'string' || !SERVER_NAME.test(name)) {
      throw new BadArgumentError(
        `server name ${JSON.stringify(name)} is not allowed: letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters`,
      );
    }
    if (this.#servers.has(name)) throw new BadArgumentError(`server ${name} already exists; use alter_server_def to change it`);
    const given = this.#checkProps('add_server', name, props);
    if (typeof given.hostname !== 'string' || given.hostname === '') {
      throw new BadArgumentError(`add_server ${name}: hostname is required`);
    }
    const explicit = { ...given, role: given.role ?? 'replica', enabled: false };
    const candidate: ExplicitServer = { name, explicit, status: unknownServerStatus() };
    this.#checkDefinition(candidate, undefined);
    this.#servers.set(name, candidate);
    this.#emit({ kind: 'added', server: name });
    return this.#effective(candidate);
  }

  /** remove: deletes the definition of a disabled server; an enabled one is refused. */
  remove(name: string): void {
    const entry = this.#entry(name);
    if (this.#effective(entry).enabled) throw new BadArgumentError(`server ${name} is enabled; disable it before removing it`);
    this.#servers.delete(name);
    this.#emit({ kind: 'removed', server: name });
  }

  /** Marks a server enabled; refused when it would be a second enabled master. */
  enable(name: string): ServerDefinition {
    return this.alter(name, { enabled: true });
  }

  /** Marks a server disabled, so it is neither checked nor chosen. */
  disable(name: string): ServerDefinition {
    return this.alter(name, { enabled: false });
  }

  /** A value kept for later features (pause flag, failover journal), or undefined. */
  getExtra(key: string): unknown {
    return structuredClone(this.#extra[key]);
  }

  /** Stores a JSON value for later features; undefined deletes the key. */
  setExtra(key: string, value: unknown): void {
    const before = JSON.stringify(this.#extra[key]);
    if (value === undefined) delete this.#extra[key];
    else this.#extra[key] = structuredClone(value);
    if (JSON.stringify(this.#extra[key]) !== before) this.#emit({ kind: 'extra', key });
  }

  /** The state to persist, as generation `generation`. */
  snapshot(generation: number): SavedState {
    if (!Number.isSafeInteger(generation) || generation < 0) throw new BadArgumentError(`generation must be a non-negative integer, not ${generation}`);
    const servers: SavedState['servers'] = {};
    for (const s of this.#servers.values()) servers[s.name] = { definition: structuredClone(s.explicit), status: { ...s.status } };
    return {
      format: 1,
      generation,
      updated_at: new Date(this.#now()).toISOString(),
      servers,
      cluster: { ...this.#cluster },
      extra: structuredClone(this.#extra),
    };
  }

  /** Registers a listener called after every change; returns a function that unregisters it. */
  onChange(listener: RegistryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #entry(name: string): ExplicitServer {
    const entry = this.#servers.get(name);
    if (entry === undefined) throw new UnknownServerError(name);
    return entry;
  }

  #effective(server: ExplicitServer): ServerDefinition {
    // Built once per change of the server's keys or status (both are replaced, never changed in place, but
    // by #convertLoaded, which drops the entry); each caller gets its own copy, shallow when every value is
    // a primitive (a poll cycle asks for every server several times: a structuredClone each was most of its CPU).
    let cached = this.#effectiveCache.get(server);
    if (cached === undefined || cached.explicit !== server.explicit || cached.status !== server.status) {
      const def: Record<string, unknown> = structuredClone({ ...this.#defaults, ...server.explicit, name: server.name, ...server.status });
      // The schema documents an empty pgconf as "postgresql.conf lives in pgdata"; plugins get the resolved directory.
      if ((def.pgconf === undefined || def.pgconf === '') && def.pgdata !== undefined) def.pgconf = def.pgdata;
      const flat = Object.values(def).every((value) => value === null || typeof value !== 'object');
      cached = { explicit: server.explicit, status: server.status, def, flat };
      this.#effectiveCache.set(server, cached);
    }
    return (cached.flat ? { ...cached.def } : structuredClone(cached.def)) as ServerDefinition;
  }

  /**
   * A clean copy of the given properties, converted to the schema's types
   * (exactly what the schema check passed); refuses the keys the registry owns
   * and anything the schema refuses.
   */
  #checkProps(action: string, name: string, props: Record<string, unknown>): Record<string, unknown> {
    if (!isPlainObject(props)) throw new BadArgumentError(`${action}: server properties must be an object`);
    const owned = Object.keys(props).filter((key) => OWNED_KEYS.includes(key));
    if (owned.length > 0) {
      throw new BadArgumentError(
        `${action} cannot set ${owned.join(', ')}: status fields come from checks and the name is the server's identity`,
      );
    }
    const given = structuredClone(Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)));
    if (this.#validate === undefined) return given;
    const { converted, problems } = this.#validate(given);
    if (problems.length > 0) throw new BadArgumentError(`server ${name}: ${problems.join('; ')}`);
    return structuredClone(converted);
  }

  /**
   * Converts, key by key, loaded definition values the schema accepts after
   * conversion (e.g. "true" stored by an older version); values it refuses are
   * kept as they are. Returns the converted keys.
   */
  #convertLoaded(server: ExplicitServer): string[] {
    const validate = this.#validate;
    if (validate === undefined) return [];
    const changed: string[] = [];
    for (const [key, value] of Object.entries(server.explicit)) {
      const { converted, problems } = validate({ [key]: value });
      if (problems.length === 0 && key in converted && JSON.stringify(converted[key]) !== JSON.stringify(value)) {
        server.explicit[key] = converted[key];
        this.#effectiveCache.delete(server);
        changed.push(`${key} ${JSON.stringify(value)}`);
      }
    }
    return changed;
  }

  /** Refuses a candidate definition with bad core keys, or that makes a second enabled master. */
  #checkDefinition(candidate: ExplicitServer, before: ServerDefinition | undefined): void {
    const after = this.#effective(candidate);
    const problems = coreKeyProblems(after);
    if (problems.length > 0) throw new BadArgumentError(`server ${candidate.name}: ${problems.join('; ')}`);
    const wasEnabledMaster = before !== undefined && before.enabled && before.role === 'master';
    if (after.enabled && after.role === 'master' && !wasEnabledMaster) {
      const others = this.masters().filter((m) => m.name !== candidate.name);
      if (others.length > 0) {
        throw new BadArgumentError(
          `cannot make ${candidate.name} an enabled master while ${others.map((m) => m.name).join(', ')} is the enabled master; disable it first`,
        );
      }
    }
  }

  #emit(change: RegistryChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.#onListenerError(err, change);
      }
    }
  }

  #makeView(): ServerView {
    return Object.freeze({
      get: (name: string) => deepFreeze(this.get(name)),
      has: (name: string) => this.has(name),
      list: () => deepFreeze(this.list()),
      master: () => {
        const master = this.master();
        return master === undefined ? undefined : deepFreeze(master);
      },
      byRole: (...roles: string[]) => deepFreeze(this.byRole(...roles)),
    });
  }
}
