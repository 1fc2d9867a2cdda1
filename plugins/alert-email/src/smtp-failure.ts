import { errorMessage } from '@handyrep/plugin-sdk';

/** A nodemailer error in words for `details`, with every secret replaced. */
export function describeSmtpFailure(err: unknown, secrets: readonly string[]): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const reason = hintFor(code, errorMessage(err));
  let text = `${typeof code === 'string' ? `${code}: ` : ''}${reason}`;
  for (const secret of secrets) {
    if (secret !== '') text = text.split(secret).join('[redacted]');
  }
  return text.replace(/\s+/g, ' ').trim();
}

function hintFor(code: unknown, message: string): string {
  if (code === 'EAUTH') return `authentication refused (${message})`;
  if (/STARTTLS/i.test(message) || code === 'ETLS') return `TLS could not be established (${message})`;
  if (/altname|does not match certificate/i.test(message)) return `server certificate does not name this host (${message})`;
  if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(message)) return `server certificate not trusted (${message}); set ca_file to its CA`;
  return message;
}
