import { hostname } from 'node:os';
import { fail, success, withTimeout } from '@handyrep/plugin-sdk';
import type { Alert, AlertPlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import { createTransport } from 'nodemailer';
import type { AlertEmailConfig } from './config.js';
import { alertMessage } from './message.js';
import { recipientsOf } from './recipients.js';
import { atLeast } from './severity.js';
import { describeSmtpFailure } from './smtp-failure.js';
import { smtpSetup } from './smtp-options.js';

/** `send`'s return dictionary. */
export type EmailSendResult = ReturnDictionary<{ sent: boolean; recipients?: number }>;

/** The `alert_email` instance. Throws at creation when the password, CA file or recipients cannot work. */
export function createAlertEmail(context: PluginContext<AlertEmailConfig>): AlertPlugin {
  const { config, logger } = context;
  const section = `[plugins.${context.name}]`;
  const recipients = recipientsOf(config.to, section);
  const smtp = smtpSetup(config, context.secrets, section);
  const server = `${config.host}:${config.port}`;
  const sender = hostname();
  if (!config.secure && !config.starttls_required) {
    logger.warn(
      `starttls_required is off: alerts${config.username === '' ? '' : ' and the SMTP password'} may travel unencrypted to ${server} when it offers no STARTTLS`,
    );
  }

  return {
    async send(alert: Alert): Promise<EmailSendResult> {
      if (!atLeast(alert.severity, config.min_severity)) {
        return success(`${alert.severity} alert ${alert.type} is below min_severity ${config.min_severity}: not e-mailed`, { sent: false });
      }
      const { subject, text } = alertMessage(alert, config.cluster_name, sender);
      // One transport per alert: alerts are rare, and a fresh connection never inherits a broken one.
      const transport = createTransport(smtp.options);
      try {
        const info = await withTimeout(
          transport.sendMail({
            from: config.from,
            to: recipients,
            subject,
            text,
            priority: alert.severity === 'critical' ? 'high' : 'normal',
            headers: { 'X-HandyRep-Alert': alert.type, 'X-HandyRep-Severity': alert.severity },
          }),
          config.timeout_ms,
          `SMTP server ${server}: no answer within ${config.timeout_ms} ms`,
        );
        const accepted = info.accepted.length;
        logger.info(`${alert.type} alert e-mailed to ${accepted} recipient(s) via ${server}`, { alert: alert.type });
        return success(`${alert.type} alert e-mailed via ${server} to ${recipients.join(', ')}`, { sent: true, recipients: accepted });
      } catch (err) {
        const why = describeSmtpFailure(err, smtp.secrets);
        logger.error(`${alert.type} alert NOT e-mailed via ${server}: ${why}`, { alert: alert.type });
        return fail(`${alert.type} alert NOT e-mailed via ${server}: ${why}`, { sent: false });
      } finally {
        transport.close();
      }
    },
  };
}
