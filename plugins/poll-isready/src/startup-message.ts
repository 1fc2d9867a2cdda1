/** Protocol version 3.0 as the StartupMessage carries it: major 3 in the high 16 bits, minor 0. */
export const PROTOCOL_3_0 = 196_608;

/**
 * Encodes a protocol-3.0 StartupMessage: int32 length (itself included),
 * int32 protocol version, `name\0value\0` pairs, a final `\0`.
 */
export function startupMessage(parameters: Readonly<Record<string, string>>): Buffer {
  const pairs: Buffer[] = [];
  for (const [name, value] of Object.entries(parameters)) {
    if (name.includes('\0') || value.includes('\0')) throw new TypeError(`startup parameter ${JSON.stringify(name)} contains a NUL byte`);
    pairs.push(Buffer.from(`${name}\0${value}\0`, 'utf8'));
  }
  const body = Buffer.concat([...pairs, Buffer.from([0])]);
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + body.length, 0);
  header.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([header, body]);
}

/** The Terminate message: a polite goodbye once authentication already succeeded. */
export function terminateMessage(): Buffer {
  const message = Buffer.alloc(5);
  message.write('X', 0, 'latin1');
  message.writeInt32BE(4, 1);
  return message;
}
