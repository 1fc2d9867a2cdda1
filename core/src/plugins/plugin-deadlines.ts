import { KIND_METHODS, TimeoutError, withTimeout } from '@handyrep/plugin-sdk';
import type { Logger, PluginKind } from '@handyrep/plugin-sdk';
import type { HandyRepConfig } from '../config/config-types.js';

/** How long each call of a plugin's methods may take, and the setting that says so. */
export interface PluginDeadline {
  /** Seconds; 0 means no deadline. */
  seconds: number;
  /** The config key, for messages, e.g. `[handyrep] plugin_timeout`. */
  setting: string;
}

/** Optional methods of a kind that are bounded like its required ones. */
const OPTIONAL_METHODS: Partial<Record<PluginKind, readonly string[]>> = { clone: ['rewind'] };

/** setTimeout fires at once beyond this many ms; a longer deadline is no deadline. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The deadline of each call of a `kind` plugin: promotions have
 * `[failover] promotion_timeout`, clones and archive cleanup
 * `[handyrep] clone_timeout` (0 by default: none), everything else
 * `[handyrep] plugin_timeout`.
 */
export function pluginDeadline(kind: PluginKind, config: Pick<HandyRepConfig, 'handyrep' | 'failover'>): PluginDeadline {
  switch (kind) {
    case 'promotion':
      return { seconds: config.failover.promotion_timeout, setting: '[failover] promotion_timeout' };
    case 'clone':
    case 'archive_cleanup':
      return { seconds: config.handyrep.clone_timeout, setting: '[handyrep] clone_timeout' };
    default:
      return { seconds: config.handyrep.plugin_timeout, setting: '[handyrep] plugin_timeout' };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

type AnyFunction = (...args: unknown[]) => unknown;

/** A function calling `instance[method]` with `this` = instance, its promise bounded by `ms`. */
function boundedMethod(instance: object, method: string, ms: number, label: string, deadline: PluginDeadline, logger: Logger): AnyFunction {
  const message = `${label}: ${method} did not finish within ${deadline.seconds} s (${deadline.setting})`;
  return (...args: unknown[]): unknown => {
    const original = Reflect.get(instance, method, instance) as AnyFunction;
    const result = Reflect.apply(original, instance, args);
    // A synchronous method (replica_selection's select) returns as it always did: no timer can interrupt it.
    if (!isThenable(result)) return result;
    const work = Promise.resolve(result);
    const started = Date.now();
    return withTimeout(work, ms, message).catch((err: unknown) => {
      if (err instanceof TimeoutError && err.message === message) {
        logger.warn(`${message}; HandyRep goes on without it, the plugin's own work may still be running`, { method, timeout_s: deadline.seconds });
        work.then(
          () => logger.info(`${label}: ${method} finished ${((Date.now() - started) / 1000).toFixed(1)} s after it was called, past its deadline; its result was ignored`, { method }),
          () => logger.info(`${label}: ${method} failed ${((Date.now() - started) / 1000).toFixed(1)} s after it was called, past its deadline; its error was ignored`, { method }),
        );
      }
      throw err;
    });
  };
}

/**
 * A view of `instance` whose kind methods (KIND_METHODS, plus clone's
 * `rewind`) are bounded by `deadline`: past it, the call rejects with a
 * TimeoutError (HR_TIMEOUT) naming the plugin, the method and the seconds,
 * and a warning is logged; the plugin's own work is not cancelled. Results,
 * errors, arguments and `this` are otherwise untouched, other properties
 * (e.g. an hr_master plugin's `sharedState`) are the instance's own, and
 * other methods are called on the instance. Without a deadline, the instance itself.
 */
export function withDeadlines<T extends object>(instance: T, kind: PluginKind, name: string, deadline: PluginDeadline, logger: Logger): T {
  const ms = deadline.seconds * 1000;
  if (!(ms > 0) || ms > MAX_TIMER_MS) return instance;
  const label = `plugin '${name}' (${kind})`;
  const methods = [...KIND_METHODS[kind], ...(OPTIONAL_METHODS[kind] ?? [])];
  const wrapped = new Map<PropertyKey, AnyFunction>();
  for (const method of methods) {
    if (typeof Reflect.get(instance, method, instance) === 'function') wrapped.set(method, boundedMethod(instance, method, ms, label, deadline, logger));
  }
  const boundOthers = new WeakMap<AnyFunction, AnyFunction>();
  const onInstance = (value: unknown): unknown => {
    if (typeof value !== 'function') return value;
    let bound = boundOthers.get(value as AnyFunction);
    if (bound === undefined) {
      bound = (value as AnyFunction).bind(instance);
      boundOthers.set(value as AnyFunction, bound);
    }
    return bound;
  };
  // The proxy's own target stays empty, so a frozen instance puts no invariant on what `get` returns.
  return new Proxy(Object.create(null) as T, {
    get: (_target, prop) => wrapped.get(prop) ?? (prop === 'constructor' ? Reflect.get(instance, prop, instance) : onInstance(Reflect.get(instance, prop, instance))),
    set: (_target, prop, value) => Reflect.set(instance, prop, value, instance),
    has: (_target, prop) => Reflect.has(instance, prop),
    deleteProperty: (_target, prop) => Reflect.deleteProperty(instance, prop),
    ownKeys: () => Reflect.ownKeys(instance),
    getOwnPropertyDescriptor: (_target, prop) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(instance, prop);
      if (descriptor === undefined) return undefined;
      const method = wrapped.get(prop);
      return { ...descriptor, ...(method !== undefined && 'value' in descriptor ? { value: method } : {}), configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(instance),
  });
}
