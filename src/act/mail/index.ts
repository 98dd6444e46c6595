/**
 * Mail: the incident mail (render), the persistent outbox sender (Mailer) and the daily digest.
 * `mailerOptionsFromConfig` maps the agent configuration onto the Mailer's options.
 */
import type { TollgateConfig } from '../../config/schema.js';
import type { MailerOptions } from './mailer.js';

export { renderIncidentMail, incidentMail, displayDestination, type IncidentMailInput } from './render.js';
export { Mailer, parseSmtpUrl, messageIdFor, type MailerOptions, type MailerStatus, type SmtpEndpoint } from './mailer.js';
export { DailyDigest, collectDigest, composeDigest, localDay, type DailyDigestOptions, type DigestData, type DigestRenderOptions, type SpendLine, type DecisionCount } from './digest.js';
export type { RenderedMail } from './format.js';

/**
 * The Mailer's options from `smtp.*` and `alerts.*`; undefined (with the reason) when mail is not
 * configured: no `smtp.url`, or nobody in `alerts.to`.
 */
export function mailerOptionsFromConfig(config: TollgateConfig, deps: Pick<MailerOptions, 'store' | 'clock' | 'logger'>): { options: MailerOptions } | { options: undefined; reason: string } {
  if (!config.smtp.url) return { options: undefined, reason: 'smtp.url is not set (TOLLGATE_SMTP_URL)' };
  if (config.alerts.to.length === 0) return { options: undefined, reason: 'alerts.to is empty (TOLLGATE_ALERT_TO)' };
  const options: MailerOptions = {
    ...deps,
    url: config.smtp.url,
    from: config.alerts.from,
    rejectUnauthorized: config.smtp.rejectUnauthorized,
    concurrency: config.smtp.concurrency,
    maxPerMinute: config.smtp.maxPerMinute,
  };
  if (config.smtp.caFile) options.caFile = config.smtp.caFile;
  return { options };
}
