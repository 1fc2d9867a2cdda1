// Docker backend (see README): placeholder until implemented.
import { request } from 'node:http';
import type { Launcher } from './launcher.js';

/** null when a Docker engine answers on DOCKER_HOST (unix socket), else the reason it does not. */
export async function dockerAvailable(): Promise<string | null> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://')) return `DOCKER_HOST=${host} is not a unix socket (only those are supported)`;
  const socketPath = host.slice('unix://'.length);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `engine at ${socketPath} answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`no engine at ${socketPath} (${err.message})`));
    req.end();
  });
}

export class DockerLauncher implements Launcher {
  readonly kind = 'docker' as const;
  constructor() {
    throw new Error('docker backend not implemented yet');
  }
  addHost(): Promise<void> { throw new Error('unreachable'); }
  run(): never { throw new Error('unreachable'); }
  daemon(): never { throw new Error('unreachable'); }
  reaper(): never { throw new Error('unreachable'); }
  ownPids(): number[] { return []; }
  async dispose(): Promise<void> {}
}
