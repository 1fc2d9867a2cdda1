import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** `promotion_method`: turns a replica into a master. */
export interface PromotionPlugin extends PluginInstanceBase {
  /** Promotes `server`; SUCCESS only once the server has left recovery. */
  promote(server: string): Promise<ReturnDictionary>;
}
