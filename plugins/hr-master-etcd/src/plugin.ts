import { readFileSync } from 'node:fs';
import { definePlugin } from '@handyrep/plugin-sdk';
import type { HrMasterPlugin, PluginContext } from '@handyrep/plugin-sdk';
import { hrMasterEtcdConfigSchema, resolveSettings } from './config.js';
import type { HrMasterEtcdConfig } from './config.js';
import { EtcdElection } from './election.js';
import { Etcd3Store } from './etcd3-store.js';
import type { Etcd3StoreOptions } from './etcd3-store.js';
import type { EtcdStore } from './store.js';

/** The etcd client options from the section: endpoints, optional user/password, optional TLS files. */
export function storeOptions(context: PluginContext<HrMasterEtcdConfig>, endpoints: string[]): Etcd3StoreOptions {
  const { config } = context;
  const options: Etcd3StoreOptions = { endpoints };
  if (config.username !== '') options.auth = { username: config.username, password: context.secrets.require(config.password_key) };
  if (config.ca_file !== '' || config.cert_file !== '') {
    options.tls = {
      ...(config.ca_file !== '' ? { ca: readFileSync(config.ca_file) } : {}),
      ...(config.cert_file !== '' ? { cert: readFileSync(config.cert_file) } : {}),
      ...(config.key_file !== '' ? { key: readFileSync(config.key_file) } : {}),
    };
  }
  return options;
}

/** Builds the plugin instance over any EtcdStore (the real one, or a fake in tests) and starts campaigning. */
export function createHrMasterEtcd(
  context: PluginContext<HrMasterEtcdConfig>,
  makeStore: (options: Etcd3StoreOptions) => EtcdStore = (options) => new Etcd3Store(options),
  now?: () => number,
): HrMasterPlugin & { election: EtcdElection } {
  const settings = resolveSettings(context.config);
  const store = makeStore(storeOptions(context, settings.endpoints));
  const election = new EtcdElection(settings, { store, logger: context.logger, ...(now ? { now } : {}) });
  election.start();
  context.logger.info(
    `instance ${settings.instance} campaigns for ${election.leaderKey} on ${settings.endpoints.join(', ')} ` +
      `(lease TTL ${settings.ttlSeconds} s, stops acting ${settings.marginMs} ms before expiry, renews every ${settings.keepaliveIntervalMs} ms)`,
  );
  return {
    election,
    async check() {
      return election.check();
    },
    sharedState: {
      read: () => election.read(),
      write: (record) => election.write(record),
    },
    close: () => election.close(),
  };
}

/** `master_check_method = hr_master_etcd`. */
export const plugin = definePlugin<'hr_master', HrMasterEtcdConfig>({
  kind: 'hr_master',
  name: 'hr_master_etcd',
  description: 'Several HandyRep instances coordinated through etcd: lease-based election of the acting instance, shared state.',
  configSchema: hrMasterEtcdConfigSchema,
  create(context) {
    return createHrMasterEtcd(context);
  },
});
