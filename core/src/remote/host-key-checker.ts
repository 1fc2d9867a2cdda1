import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@handyrep/plugin-sdk';
import { ErrorCodes, HandyRepError, errorMessage } from '@handyrep/plugin-sdk';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import {
  checkHostKey,
  keyFingerprint,
  keyTypeOfBlob,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.js';
import type { KnownHostEntry } from './known-hosts.js';

/** `[handyrep] ssh_host_key_policy`. */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

/** The host-key decision for one connection attempt. */
export interface HostKeyCheck {
  /**
   * Host-key algorithms to offer, known types first, so a host with several
   * keys presents the one on record (what OpenSSH does); undefined keeps ssh2's default.
   */
  algorithms: ServerHostKeyAlgorithm[] | undefined;
  /** Resolves when the presented key blob is acceptable; rejects with SSH_HOST_KEY otherwise. */
  verify(key: Buffer): Promise<void>;
}

// ssh2 1.17's default order; the types on record for a host are moved to the front.
const DEFAULT_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algorithmsForKeyType(type: string): ServerHostKeyAlgorithm[] {
  // An RSA key is one key type but three signature algorithms.
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return DEFAULT_HOST_KEY_ALGORITHMS.filter((algorithm) => algorithm === type);
}

/** Checks SSH host keys against one known_hosts file under one policy. */
export class HostKeyChecker {
  private readonly warnedOff = new Set<string>();
  // Appends are chained so two connections to one host never both add its key.
  private appendQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly knownHostsPath: string,
    private readonly policy: HostKeyPolicy,
    private readonly logger: Logger,
  ) {}

  /** Reads the known_hosts file and returns the check for a connection to `host:port` (server `server`). */
  async prepare(server: string, host: string, port: number): Promise<HostKeyCheck> {
    const name = knownHostsName(host, port);
    if (this.policy === 'off') {
      return {
        algorithms: undefined,
        verify: async (key) => {
          if (this.warnedOff.has(name)) return;
          this.warnedOff.add(name);
          this.logger.warn('ssh host key not checked (ssh_host_key_policy = off)', {
            server,
            host: name,
            fingerprint: keyFingerprint(key),
          });
        },
      };
    }
    const entries = await this.readEntries();
    const preferred = knownKeyTypes(entries, name).flatMap(algorithmsForKeyType);
    const algorithms =
      preferred.length === 0
        ? undefined
        : [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])];
    return { algorithms, verify: (key) => this.verify(server, name, entries, key) };
  }

  private async verify(server: string, name: string, entries: readonly KnownHostEntry[], key: Buffer): Promise<void> {
    const verdict = checkHostKey(entries, name, key);
    const fingerprint = keyFingerprint(key);
    const where = `server ${server} (${name})`;
    switch (verdict.status) {
      case 'known':
        return;
      case 'revoked':
        throw new HandyRepError(
          ErrorCodes.SSH_HOST_KEY,
          `host key ${fingerprint} of ${where} is marked @revoked in ${this.knownHostsPath} line ${verdict.entry.line}; refusing to connect`,
        );
      case 'changed':
        throw new HandyRepError(
          ErrorCodes.SSH_HOST_KEY,
          `host key of ${where} does not match ${this.knownHostsPath} (lines ${verdict.entries.map((entry) => entry.line).join(', ')}): ` +
            `presented ${keyTypeOfBlob(key) ?? 'unknown type'} ${fingerprint}; the host may have been reinstalled or someone may be intercepting; ` +
            'refusing to connect (remove the stale line if the change is expected)',
        );
      case 'unknown':
        if (this.policy === 'strict') {
          throw new HandyRepError(
            ErrorCodes.SSH_HOST_KEY,
            `host key ${fingerprint} of ${where} is not in ${this.knownHostsPath} and ssh_host_key_policy is strict; ` +
              'add it (e.g. with ssh-keyscan) or use accept-new',
          );
        }
        await this.append(server, name, key);
        return;
    }
  }

  private async readEntries(): Promise<KnownHostEntry[]> {
    try {
      return parseKnownHosts(await readFile(this.knownHostsPath, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new HandyRepError(
        ErrorCodes.SSH_HOST_KEY,
        `cannot read known_hosts file ${this.knownHostsPath}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  private append(server: string, name: string, key: Buffer): Promise<void> {
    const run = async (): Promise<void> => {
      // Re-read under the queue: another connection may have added this host meanwhile.
      const verdict = checkHostKey(await this.readEntries(), name, key);
      if (verdict.status === 'known') return;
      if (verdict.status !== 'unknown') {
        throw new HandyRepError(ErrorCodes.SSH_HOST_KEY, `host key of server ${server} (${name}) changed while it was being added to ${this.knownHostsPath}`);
      }
      try {
        await mkdir(dirname(this.knownHostsPath), { recursive: true, mode: 0o700 });
        const handle = await open(this.knownHostsPath, 'a+', 0o600);
        let separator = '';
        try {
          const { size } = await handle.stat();
          if (size > 0) {
            const last = Buffer.alloc(1);
            await handle.read(last, 0, 1, size - 1);
            if (last[0] !== 0x0a) separator = '\n';
          }
        } finally {
          await handle.close();
        }
        await appendFile(this.knownHostsPath, `${separator}${knownHostsLine(name, key)}\n`, { mode: 0o600 });
      } catch (err) {
        throw new HandyRepError(
          ErrorCodes.SSH_HOST_KEY,
          `cannot add the host key of server ${server} (${name}) to ${this.knownHostsPath}: ${errorMessage(err)}`,
          { cause: err },
        );
      }
      this.logger.info('ssh host key added to known_hosts (ssh_host_key_policy = accept-new)', {
        server,
        host: name,
        fingerprint: keyFingerprint(key),
        file: this.knownHostsPath,
      });
    };
    const result = this.appendQueue.then(run, run);
    this.appendQueue = result.catch(() => undefined);
    return result;
  }
}
