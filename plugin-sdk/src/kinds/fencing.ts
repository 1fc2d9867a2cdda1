import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** A fencing answer: `fenced` is true only when the server is confirmed unable to accept writes. */
export type FenceResult = ReturnDictionary<{ fenced: boolean }>;

/** `fencing_method`: makes sure an old master can no longer accept writes. */
export interface FencingPlugin extends PluginInstanceBase {
  /** Fences `server`. */
  fence(server: string): Promise<FenceResult>;
}
