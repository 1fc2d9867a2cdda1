import { readFile } from 'node:fs/promises';

/** uid and gid of the OS user `postgres`, which PostgreSQL and the test sshd sessions run as. */
export async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const fields = passwd
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'))
    ?.split(':');
  if (!fields) throw new Error('the OS user postgres does not exist');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}
