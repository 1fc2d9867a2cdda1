import { hostname } from 'node:os';
import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.hr_master_etcd]` section, defaults applied. */
export interface HrMasterEtcdConfig {
  /** etcd client URLs: a list (INI `endpoints[] = ...`) or one comma-separated string. */
  endpoints: string | string[];
  /** Name of the PostgreSQL cluster; part of the default key prefix. */
  cluster_name: string;
  /** Key prefix; empty means `/handyrep/<cluster_name>`. */
  prefix: string;
  /** This instance's name, unique among the instances of one cluster; empty means the host name. */
  instance_name: string;
  /** TTL of this instance's etcd lease, in seconds. */
  lease_ttl_seconds: number;
  /** How long before its lease could expire this instance stops acting; 0 means a third of the TTL. */
  safety_margin_ms: number;
  /** Deadline of every single etcd request; 0 means derived from the lease (a third of TTL − margin, at least 500 ms). */
  request_timeout_ms: number;
  /** etcd user name; empty: no authentication. */
  username: string;
  /** Key in `[passwords]` holding the etcd user's password. */
  password_key: string;
  /** PEM CA certificate(s) for https endpoints; empty: the system's roots. */
  ca_file: string;
  /** PEM client certificate for TLS client authentication (with `key_file`). */
  cert_file: string;
  /** PEM private key of `cert_file`. */
  key_file: string;
}

/** JSON Schema of `[plugins.hr_master_etcd]`. */
export const hrMasterEtcdConfigSchema: ObjectSchema = {
  type: 'object',
  description:
    'Several HandyRep instances coordinated through etcd (v3 API): a lease-based election decides which one acts; the saved state is shared in etcd.',
  properties: {
    endpoints: {
      type: ['string', 'array'],
      items: { type: 'string' },
      default: 'http://127.0.0.1:2379',
      description: 'etcd client URLs (http:// or https://, all of one kind): comma-separated, or one `endpoints[] = URL` line each.',
    },
    cluster_name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]+$',
      default: 'handyrep',
      description: 'Name of the PostgreSQL cluster these instances manage; the default prefix is `/handyrep/<cluster_name>`.',
    },
    prefix: {
      type: 'string',
      pattern: '^(/[A-Za-z0-9_.-]+)*$',
      default: '',
      description: 'etcd key prefix (e.g. `/handyrep/prod`); empty uses `/handyrep/<cluster_name>`. Every instance of one cluster must use the same prefix.',
    },
    instance_name: {
      type: 'string',
      pattern: '^[^\\s/]*$',
      default: '',
      description: 'Name of this instance, reported as `acting_instance`; must differ between instances (an instance whose name is held by another live instance does not campaign). Empty uses the host name.',
    },
    lease_ttl_seconds: {
      type: 'integer',
      minimum: 2,
      maximum: 300,
      default: 10,
      description: 'TTL of the lease behind the leader key: after the acting instance dies, another takes over within about this long.',
    },
    safety_margin_ms: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'The acting instance stops acting this long before its lease could expire (counted from the last keepalive it sent); 0 uses a third of the TTL. At least 200 and at most TTL − 1 s.',
    },
    request_timeout_ms: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'Deadline of each etcd request; 0 uses a third of (TTL − margin), at least 500 ms.',
    },
    username: { type: 'string', default: '', description: 'etcd user; empty: no authentication.' },
    password_key: {
      type: 'string',
      default: 'etcd_password',
      description: 'Key in `[passwords]` that holds the etcd user\'s password (read only when `username` is set).',
    },
    ca_file: { type: 'string', default: '', description: 'PEM CA certificate file (absolute path) to trust for https endpoints; empty: the system\'s roots.' },
    cert_file: { type: 'string', default: '', description: 'PEM client certificate file (absolute path) for etcd TLS client authentication, with `key_file`.' },
    key_file: { type: 'string', default: '', description: 'PEM private key file (absolute path) of `cert_file`.' },
  },
  additionalProperties: false,
};

/** The settings the election runs with, derived once from the section. */
export interface ResolvedSettings {
  endpoints: string[];
  prefix: string;
  instance: string;
  ttlSeconds: number;
  marginMs: number;
  requestTimeoutMs: number;
  /** How often the lease is renewed and the leader key re-read. */
  keepaliveIntervalMs: number;
}

function invalid(message: string): HandyRepError {
  return new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `[plugins.hr_master_etcd] ${message}`);
}

/** Checks what the schema cannot and derives the timings; throws PLUGIN_CONFIG_INVALID naming the key. */
export function resolveSettings(config: HrMasterEtcdConfig, hostName: () => string = hostname): ResolvedSettings {
  const list = Array.isArray(config.endpoints) ? config.endpoints : config.endpoints.split(',');
  const endpoints = list.map((url) => url.trim()).filter((url) => url !== '');
  if (endpoints.length === 0) throw invalid('endpoints: at least one etcd URL is needed');
  for (const url of endpoints) {
    if (!/^https?:\/\/[^/\s]+:\d+\/?$/.test(url)) throw invalid(`endpoints: '${url}' is not http(s)://host:port`);
  }
  const secure = endpoints.filter((url) => url.startsWith('https://')).length;
  if (secure !== 0 && secure !== endpoints.length) throw invalid('endpoints: mix of http:// and https:// URLs');

  const ttlMs = config.lease_ttl_seconds * 1000;
  const marginMs = config.safety_margin_ms === 0 ? Math.round(ttlMs / 3) : config.safety_margin_ms;
  if (marginMs < 200 || marginMs > ttlMs - 1000) {
    throw invalid(`safety_margin_ms: ${marginMs} must be between 200 and lease_ttl_seconds × 1000 − 1000 (${ttlMs - 1000})`);
  }
  const windowMs = ttlMs - marginMs;
  // Three renewals fit in the window: one lost keepalive never costs the role.
  const keepaliveIntervalMs = Math.max(200, Math.floor(windowMs / 3));
  const requestTimeoutMs = config.request_timeout_ms === 0 ? Math.max(500, keepaliveIntervalMs) : config.request_timeout_ms;

  const name = config.instance_name.trim();
  const instance = name !== '' ? name : hostName();
  const prefix = config.prefix !== '' ? config.prefix : `/handyrep/${config.cluster_name}`;
  return { endpoints, prefix, instance, ttlSeconds: config.lease_ttl_seconds, marginMs, requestTimeoutMs, keepaliveIntervalMs };
}
