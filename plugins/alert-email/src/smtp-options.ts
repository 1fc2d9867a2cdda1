import { ErrorCodes, HandyRepError, trustedCas } from '@handyrep/plugin-sdk';
import type { Secrets } from '@handyrep/plugin-sdk';
import type { SMTPTransportOptions } from 'nodemailer/lib/smtp-transport';
import type { AlertEmailConfig } from './config.js';

/** The nodemailer SMTP options and the values that must never be shown. */
export interface SmtpSetup {
  /** Options for `createTransport`. */
  options: SMTPTransportOptions;
  /** The password and its encodings as they could appear in a protocol trace. */
  secrets: string[];
}

/**
 * Builds the SMTP options once at start. Throws (naming the key) when the
 * password or the CA file is missing, so a broken alert channel stops HandyRep
 * at start rather than during a failover.
 */
export function smtpSetup(config: AlertEmailConfig, secrets: Secrets, section: string): SmtpSetup {
  const hidden: string[] = [];
  let auth: SMTPTransportOptions['auth'];
  if (config.username !== '') {
    const password = secrets.get(config.password_key);
    if (password === undefined || password === '') {
      throw new HandyRepError(
        ErrorCodes.SECRET_MISSING,
        `${section}: username is set but the password [passwords] ${config.password_key} (password_key) is ${password === undefined ? 'not set' : 'empty'}`,
      );
    }
    auth = { user: config.username, pass: password };
    // AUTH PLAIN and AUTH LOGIN carry these base64 forms; a server error could quote them.
    hidden.push(
      password,
      Buffer.from(password).toString('base64'),
      Buffer.from(`\u0000${config.username}\u0000${password}`).toString('base64'),
    );
  }
  const options: SMTPTransportOptions = {
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: !config.secure && config.starttls_required,
    connectionTimeout: config.timeout_ms,
    greetingTimeout: config.timeout_ms,
    socketTimeout: config.timeout_ms,
    dnsTimeout: config.timeout_ms,
    // nodemailer's own logger would write protocol traces (AUTH lines included) to the console.
    logger: false,
    debug: false,
    tls: { minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(config.ca_file === '' ? {} : { ca: trustedCas(config.ca_file, section) }) },
    ...(auth === undefined ? {} : { auth }),
  };
  return { options, secrets: hidden };
}
