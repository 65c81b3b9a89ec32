import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import type { SendResult } from './http-sender';
import type { EmailMessage } from '../messages/render';

export const SMTP_SETTINGS = Symbol('SMTP_SETTINGS');
export interface SmtpSettings {
  /** Unset: email is off. */
  url?: string;
  from: string;
}

/** Where mail goes, for logs: never the user name or password of SMTP_URL. */
export const smtpServerOf = (url: string): string => {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
};

/**
 * Email over SMTP (nodemailer). `smtps://` is TLS from the start; `smtp://` upgrades with
 * STARTTLS when the server offers it; TLS options ride in the URL's query (`?tls.rejectUnauthorized=false`,
 * `?requireTLS=true`). The server is checked at start and the result logged (a server down at
 * start does not stop the service: mail is retried like webhooks).
 */
@Injectable()
export class Mailer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly transport?: Transporter;

  constructor(
    @Inject(SMTP_SETTINGS) private readonly settings: SmtpSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    if (settings.url) this.transport = createTransport(settings.url);
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  async onApplicationBootstrap() {
    if (!this.transport) {
      this.logger.info('SMTP_URL is not set: no email is sent');
      return;
    }
    const server = smtpServerOf(this.settings.url!);
    await this.transport.verify().then(
      () => this.logger.info({ server }, 'SMTP server reachable'),
      (err: Error) => this.logger.error({ server, reason: err.message }, 'SMTP server check failed: mail is retried until it answers; check SMTP_URL'),
    );
  }

  /** One attempt; `messageId` is the delivery's own, the same on every retry. */
  async send(to: string, message: EmailMessage, messageId: string): Promise<SendResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    if (!this.transport) return { statusCode: null, latencyMs: 0, responseExcerpt: null, error: 'email is off (SMTP_URL is not set)' };
    try {
      const info = await this.transport.sendMail({ from: this.settings.from, to, subject: message.subject, text: message.text, html: message.html, messageId });
      const rejected = info.rejected ?? [];
      if (rejected.length)
        return { statusCode: 550, latencyMs: latency(), responseExcerpt: String(info.response ?? ''), error: `rejected: ${rejected.map(String).join(', ')}` };
      return { statusCode: 250, latencyMs: latency(), responseExcerpt: String(info.response ?? '').slice(0, 1024), error: null };
    } catch (err) {
      const e = err as Error & { responseCode?: number };
      return { statusCode: e.responseCode ?? null, latencyMs: latency(), responseExcerpt: null, error: e.message.slice(0, 1024) };
    }
  }

  onApplicationShutdown() {
    this.transport?.close();
  }
}
