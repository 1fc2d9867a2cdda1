import 'reflect-metadata';
import { errorMessage, ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { HrMasterDecision, Logger } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { Tokens } from '../di/tokens.js';
import type { PluginHost } from '../plugins/plugin-host.js';

const ALONE: HrMasterDecision = { acting: true, acting_instance: null, details: 'single HandyRep instance' };

/**
 * Whether this HandyRep instance may act (several instances: the
 * master_check_method plugin decides). Asked before every action and before
 * each irreversible failover step, so a deposed instance that resumes after a
 * pause does nothing. A check that fails means "not acting".
 */
@injectable()
export class ActingGuard {
  private last: HrMasterDecision = ALONE;

  constructor(
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.logger) private readonly logger: Logger,
  ) {}

  /** Asks the plugin now (acting when none is configured). */
  async check(): Promise<HrMasterDecision> {
    const plugin = this.plugins.cluster('hr_master');
    let decision: HrMasterDecision;
    if (!plugin) decision = ALONE;
    else {
      try {
        decision = await plugin.check();
      } catch (err) {
        decision = { acting: false, acting_instance: this.last.acting_instance, details: `HandyRep-master check failed: ${errorMessage(err)}` };
      }
    }
    if (decision.acting !== this.last.acting) {
      this.logger.warn(decision.acting ? `this instance now acts: ${decision.details}` : `this instance does not act: ${decision.details}`, { component: 'hr_master' });
    }
    this.last = decision;
    return decision;
  }

  /** The latest answer, without asking again. */
  lastDecision(): HrMasterDecision {
    return { ...this.last };
  }

  /** Throws NOT_ACTING, naming the acting instance, unless this instance acts right now. */
  async require(what: string): Promise<void> {
    const decision = await this.check();
    if (decision.acting) return;
    const who = decision.acting_instance ? `${decision.acting_instance} acts` : 'no instance is known to act';
    throw new HandyRepError(ErrorCodes.NOT_ACTING, `${what} refused: this HandyRep instance is not the acting one (${who}): ${decision.details}`);
  }
}
