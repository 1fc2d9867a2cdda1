import { createHash } from 'node:crypto';
import type { SavedState } from '../state-file.js';

/**
 * The one state a writer writes for `generation`. Everything, including the
 * size of the file, derives from the generation, so a reader can recompute it
 * and tell a complete file from a torn or mixed one.
 */
export function fixtureState(generation: number): SavedState {
  const digest = createHash('sha256').update(`generation ${generation}`).digest('hex');
  const payload = digest.repeat(1 + ((generation * 131) % 257));
  const servers: SavedState['servers'] = {};
  for (let i = 0; i <= generation % 4; i += 1) {
    servers[`db${i}`] = {
      definition: { hostname: `h${generation}-${i}.example`, role: i === 0 ? 'master' : 'replica', port: 5000 + (generation % 1000) },
      status: { status: 'healthy', status_no: 1, status_ts: '2024-01-01 00:00:00', status_message: `${generation}/${i}` },
    };
  }
  return {
    format: 1,
    generation,
    updated_at: new Date(generation * 1000).toISOString(),
    servers,
    cluster: { status: 'healthy', status_no: 1, status_ts: '2024-01-01 00:00:00', status_message: `generation ${generation}` },
    extra: { payload },
  };
}
