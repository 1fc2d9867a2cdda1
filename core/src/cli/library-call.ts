import type { HandyRep } from '../handyrep.js';
import type { FunctionCall } from './cli-arguments.js';

/**
 * The library method's arguments in the table's order; omitted optional
 * parameters are passed as undefined so the method's own defaults apply.
 * get_setting takes one setting name, or a [section, key] path.
 */
export function libraryArguments(call: FunctionCall): unknown[] {
  if (call.fn.spec === 'get_setting') {
    const setting = call.args['setting'];
    const category = call.args['category'];
    return [category === undefined ? setting : [category, setting]];
  }
  return call.fn.params.map((param) => call.args[param.name]);
}

/** Calls the HandyRep method behind a spec function in this process. */
export async function callLibrary(hr: HandyRep, call: FunctionCall): Promise<unknown> {
  const method = (hr as unknown as Record<string, unknown>)[call.fn.method];
  if (typeof method !== 'function') throw new Error(`${call.fn.spec}: HandyRep has no method ${call.fn.method}`);
  return (await (method as (...args: unknown[]) => unknown).apply(hr, libraryArguments(call))) ?? null;
}
