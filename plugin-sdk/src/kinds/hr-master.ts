import type { PluginInstanceBase } from './base.js';

/** Which HandyRep instance acts. */
export interface HrMasterDecision {
  /** True when this instance may run failovers and actions. */
  acting: boolean;
  /** Identifier of the acting instance, when known. */
  acting_instance: string | null;
  /** Why, in words. */
  details: string;
}

/** `master_check_method`: decides whether this HandyRep instance is the acting one. */
export interface HrMasterPlugin extends PluginInstanceBase {
  /** Answers for this instance now. */
  check(): Promise<HrMasterDecision>;
}
