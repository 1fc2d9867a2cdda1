import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const SCHEMA_DIR = '/etc/ldap/schema';
const MODULE_DIR = '/usr/lib/ldap';
const SCHEMAS = ['core', 'cosine', 'inetorgperson'];

/** What the test directory serves. */
export interface SlapdOptions {
  /** Directory for the config, database and logs (created). */
  dir: string;
  /** Suffix, e.g. `dc=example,dc=org`. */
  suffix: string;
  /** Entries loaded with slapadd before start. */
  ldif: string;
  /** TLS certificate, key and CA files. */
  tls: { certFile: string; keyFile: string; caFile: string };
}

/**
 * Why slapd cannot run here (binary, schemas or mdb module missing), or
 * undefined when it can. Paths are Debian's (`apt-get install slapd ldap-utils`).
 */
export function slapdMissing(): string | undefined {
  for (const tool of ['slapd', 'slapadd']) {
    const probe = spawnSync(tool, ['-VV'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.error) return `${tool} is not installed (${probe.error.message}); install with: apt-get install -y slapd ldap-utils`;
  }
  for (const schema of SCHEMAS) {
    if (!existsSync(join(SCHEMA_DIR, `${schema}.schema`))) return `${SCHEMA_DIR}/${schema}.schema is missing`;
  }
  if (!existsSync(join(MODULE_DIR, 'back_mdb.so'))) return `${MODULE_DIR}/back_mdb.so is missing`;
  return undefined;
}

/** A slapd run as a child process on 127.0.0.1, plain LDAP (with StartTLS) and LDAPS. */
export class Slapd {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    /** `ldap://127.0.0.1:<port>`. */
    readonly ldapUrl: string,
    /** `ldaps://127.0.0.1:<port>`. */
    readonly ldapsUrl: string,
    private readonly output: () => string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Writes slapd.conf, loads the LDIF with slapadd, starts slapd and waits until it accepts connections. */
  static async start(options: SlapdOptions): Promise<Slapd> {
    const { dir } = options;
    const dbDir = join(dir, 'db');
    mkdirSync(dbDir, { recursive: true });
    const conf = join(dir, 'slapd.conf');
    writeFileSync(
      conf,
      [
        ...SCHEMAS.map((schema) => `include ${SCHEMA_DIR}/${schema}.schema`),
        `modulepath ${MODULE_DIR}`,
        'moduleload back_mdb',
        `pidfile ${join(dir, 'slapd.pid')}`,
        `argsfile ${join(dir, 'slapd.args')}`,
        // On purpose: a DN with an empty password becomes an anonymous bind that "succeeds", as on many real servers.
        'allow bind_anon_dn',
        `TLSCACertificateFile ${options.tls.caFile}`,
        `TLSCertificateFile ${options.tls.certFile}`,
        `TLSCertificateKeyFile ${options.tls.keyFile}`,
        'access to attrs=userPassword by anonymous auth by self write by * none',
        'access to * by * read',
        'database mdb',
        'maxsize 10485760',
        `suffix "${options.suffix}"`,
        `rootdn "cn=root,${options.suffix}"`,
        `directory ${dbDir}`,
        '',
      ].join('\n'),
    );
    const ldifFile = join(dir, 'data.ldif');
    writeFileSync(ldifFile, options.ldif);
    const load = spawnSync('slapadd', ['-f', conf, '-l', ldifFile], { encoding: 'utf8', timeout: 30_000 });
    if (load.status !== 0) throw new Error(`slapadd failed (${load.status}): ${load.stderr}`);

    const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
    const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
    const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
    // -d keeps slapd in the foreground as our child, so it is stopped by its PID.
    const child = spawn('slapd', ['-f', conf, '-h', `${ldapUrl}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const server = new Slapd(child, ldapUrl, ldapsUrl, () => output);
    try {
      await server.waitForPort(ldapPort);
      await server.waitForPort(ldapsPort);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** The PID of the slapd child. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stops slapd by its PID: SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 5_000);
      }),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      process.kill(this.child.pid, 'SIGKILL');
      await this.exited;
    }
  }

  private async waitForPort(port: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`slapd exited with ${this.child.exitCode}: ${this.output()}`);
      if (await accepts(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`slapd did not listen on 127.0.0.1:${port} within 10 s: ${this.output()}`);
  }
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
