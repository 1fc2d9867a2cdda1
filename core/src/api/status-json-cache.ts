import type { ServerRegistry } from '../registry/server-registry.js';

/**
 * The cached `get_status` as JSON bytes, serialised again only when what it
 * shows may have changed: any registry change (statuses, definitions, the
 * cluster's status, extras such as the pause or the synchronous set), a new
 * registry (reload_conf), or a different `key` (what the registry does not
 * hold: the acting decision and the recent lags). The daemon answers a
 * status request from these bytes, so a busy status page costs neither a
 * rebuild nor a JSON.stringify per request.
 */
export class StatusJsonCache {
  #registry: ServerRegistry | undefined;
  #unsubscribe: (() => void) | undefined;
  #bytes: Buffer | undefined;
  #key = '';

  /** The bytes for `key` on `registry`, built by `build` (then serialised) only after a change. */
  bytes(registry: ServerRegistry, key: string, build: () => unknown): Buffer {
    if (registry !== this.#registry) {
      this.#unsubscribe?.();
      this.#registry = registry;
      this.#bytes = undefined;
      this.#unsubscribe = registry.onChange(() => {
        this.#bytes = undefined;
      });
    }
    if (this.#bytes === undefined || key !== this.#key) {
      this.#bytes = Buffer.from(JSON.stringify(build()), 'utf8');
      this.#key = key;
    }
    return this.#bytes;
  }

  /** Stops listening to the registry (HandyRep closed). */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#registry = undefined;
    this.#bytes = undefined;
  }
}
