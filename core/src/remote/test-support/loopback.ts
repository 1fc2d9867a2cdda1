import { createServer } from 'node:net';

function portFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}

/**
 * A random address 127.0.0.100–250 on which every port in `ports` is free, so
 * fixtures of concurrent test files (and other people's harnesses) don't collide.
 */
export async function pickLoopbackAddress(ports: readonly number[]): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const address = `127.0.0.${100 + Math.floor(Math.random() * 151)}`;
    const free = await Promise.all(ports.map((port) => portFree(address, port)));
    if (free.every(Boolean)) return address;
  }
  throw new Error(`no loopback address with ports ${ports.join(', ')} free`);
}

/** A port on `address` with nothing listening (bound then released). */
export function unusedPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const bound = server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : 0;
      server.close(() => resolve(port));
    });
  });
}
