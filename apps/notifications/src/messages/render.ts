import type { NotificationEventType } from '@latchkey/contracts';
import { APPROVER_EVENTS, groupsAskedNow } from './event-data';
import type { EmailRole, RequestEventData } from './event-data';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const resourcesLine = (d: RequestEventData) => d.resources.map((r) => `${r.permission} on ${r.path}`).join(', ');
const duration = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`);

interface Body {
  subject: string;
  lines: string[];
  link: { label: string; url: string };
}

/** What each event says to the person it is sent to. Never a password: the link leads to it. */
function body(type: NotificationEventType, d: RequestEventData, reasons: string[]): Body {
  const what = `${resourcesLine(d)} for ${duration(d.durationMinutes)}`;
  const justification = d.justification ? [`Justification: ${d.justification}`] : [];
  switch (type) {
    case 'access_request.created':
      return {
        subject: `Approval needed: ${d.requester.email} requests ${d.permissions.join(', ')} access`,
        lines: [
          `${d.requester.email} requests ${what}.`,
          ...justification,
          `You are asked because ${reasons.join('; and ')}.`,
          'Open the request to approve or reject it.',
        ],
        link: { label: 'Review the request', url: d.links.approve },
      };
    case 'access_request.partially_approved':
      return {
        subject: `Your approval is needed now: ${d.requester.email} requests ${d.permissions.join(', ')} access`,
        lines: [
          `${d.requester.email} requests ${what}.`,
          ...justification,
          `The approver groups before yours approved (${d.approvals
            .filter((a) => a.decision === 'APPROVED')
            .map((a) => a.email)
            .join(', ')}); it now waits on yours.`,
          `You are asked because ${reasons.join('; and ')}.`,
        ],
        link: { label: 'Review the request', url: d.links.approve },
      };
    case 'access_request.reminder':
      return {
        subject: `Reminder${d.reminder ? ` ${d.reminder.number} of ${d.reminder.of}` : ''}: ${d.requester.email} still waits for your approval`,
        lines: [`${d.requester.email} requested ${what} and still waits for a decision.`, ...justification, `You are asked because ${reasons.join('; and ')}.`],
        link: { label: 'Review the request', url: d.links.approve },
      };
    case 'access_request.escalated':
      return {
        subject: `Escalated to you: ${d.requester.email} requests ${d.permissions.join(', ')} access`,
        lines: [
          `${d.requester.email} requests ${what}, and nobody has decided yet.`,
          ...justification,
          `You are asked because ${reasons.join('; and ')}. Your decision settles the request.`,
        ],
        link: { label: 'Review the request', url: d.links.approve },
      };
    case 'access_request.approved':
      return {
        subject: 'Your access request was approved',
        lines: [`Your request for ${what} was approved; the access is being set up.`],
        link: { label: 'Open the request', url: d.links.request },
      };
    case 'access_request.rejected':
      return {
        subject: 'Your access request was rejected',
        lines: [`Your request for ${what} was rejected${d.actor?.email ? ` by ${d.actor.email}` : ''}.`, ...(d.reason ? [`Reason: ${d.reason}`] : [])],
        link: { label: 'Open the request', url: d.links.request },
      };
    case 'access_request.granted':
      return {
        subject: 'Your access is ready',
        lines: [
          `Your access (${what}) is ready${d.expiresAt ? ` until ${d.expiresAt}` : ''}.`,
          'Open Connect to see how to log in; the password is shown there once.',
        ],
        link: { label: 'Connect', url: d.links.connect },
      };
    case 'access_request.failed':
      return {
        subject: 'Your access could not be granted',
        lines: [`Your access (${what}) could not be granted.`, `Reason: ${d.reason ?? 'unknown'}`],
        link: { label: 'Open the request', url: d.links.request },
      };
    case 'access_request.expiring':
      return d.links.extend
        ? {
            subject: 'Your access ends soon',
            lines: [
              `Your access (${resourcesLine(d)}) ends at ${d.expiresAt}.`,
              `You may extend it (${d.extensionsRemaining} extension${d.extensionsRemaining === 1 ? '' : 's'} left).`,
            ],
            link: { label: 'Extend access', url: d.links.extend },
          }
        : {
            subject: 'Your access ends soon',
            lines: [`Your access (${resourcesLine(d)}) ends at ${d.expiresAt}.`, 'It cannot be extended: request it again if you still need it.'],
            link: { label: 'Open the request', url: d.links.request },
          };
    case 'access_request.expired':
      return d.expiresAt === null
        ? {
            subject: 'Your access request expired',
            lines: [`Your request for ${what} expired before anyone decided on it.`, 'Ask again if you still need the access.'],
            link: { label: 'Open the request', url: d.links.request },
          }
        : {
            subject: 'Your access has ended',
            lines: [`Your access (${resourcesLine(d)}) ended at ${d.expiresAt}.`],
            link: { label: 'Open the request', url: d.links.request },
          };
    case 'access_request.revoked':
      return {
        subject: 'Your access was revoked',
        lines: [`Your access (${resourcesLine(d)}) was revoked${d.actor?.email ? ` by ${d.actor.email}` : ''}.`, ...(d.reason ? [`Reason: ${d.reason}`] : [])],
        link: { label: 'Open the request', url: d.links.request },
      };
    default:
      return { subject: `Latchkey: ${type}`, lines: [`${type}: request ${d.requestId} (${what}).`], link: { label: 'Open the request', url: d.links.request } };
  }
}

export function renderEmail(type: NotificationEventType, data: RequestEventData, role: EmailRole, reasons: string[]): EmailMessage {
  // Approvers hear of requests to decide and requesters of the rest, so the event type picks the wording.
  return message(body(type, data, role === 'approver' ? reasons : []));
}

/** An admin alert (integration.error, grant.revocation_stuck, connector.disconnected, audit.chain_broken) by email. */
export function renderAlertEmail(type: NotificationEventType, data: Record<string, unknown>, publicUrl: string): EmailMessage {
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));
  const base = publicUrl.replace(/\/+$/, '');
  switch (type) {
    case 'integration.error':
      return message({
        subject: `Alert: integration ${str(data.name)} is in ERROR`,
        lines: [`The integration ${str(data.name)} (${str(data.integrationId)}) is in ERROR.`, `Reason: ${str(data.reason ?? 'unknown')}`],
        link: { label: 'Open the integration', url: `${base}/integrations/${str(data.integrationId)}` },
      });
    case 'grant.revocation_stuck':
      return message({
        subject: `Alert: a revocation is stuck (${str(data.roleName)})`,
        lines: [
          `The grant ${str(data.grantId)} of ${str(data.requester)} (role ${str(data.roleName)}) could not be revoked after ${str(data.attempts)} attempts; it is still retried.`,
          `Last error: ${str(data.lastError ?? 'unknown')}`,
        ],
        link: { label: 'Open Latchkey', url: base },
      });
    case 'connector.disconnected':
      return message({
        subject: `Alert: connector ${str(data.connectorId)} is disconnected`,
        lines: [`The connector ${str(data.connectorId)} (version ${str(data.version)}) has not been heard from since ${str(data.lastSeenAt)}.`],
        link: { label: 'Open Latchkey', url: base },
      });
    case 'audit.chain_broken':
      return message({
        subject: 'Alert: the audit chain is broken',
        lines: [`Checking ${str(data.checked)} audit entries found the chain broken at ${str(data.firstBroken)}.`],
        link: { label: 'Verify the audit log', url: `${base}/api/v1/audit/verify` },
      });
    default:
      return message({ subject: `Latchkey alert: ${type}`, lines: [JSON.stringify(data)], link: { label: 'Open Latchkey', url: base } });
  }
}

/**
 * A message to a person's own Slack incoming webhook: the same words as their email (why they are
 * asked, the reason of a rejection), with the email's link as a button that only opens the portal.
 */
export function personalSlackMessage(type: NotificationEventType, data: RequestEventData, role: EmailRole, reasons: string[]): Record<string, unknown> {
  const b = body(type, data, role === 'approver' ? reasons : []);
  return {
    text: b.subject,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: b.subject.slice(0, 150) } },
      ...b.lines.map((line) => ({ type: 'section', text: { type: 'mrkdwn', text: slackText(line) } })),
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: b.link.label }, url: b.link.url }] },
    ],
  };
}

function message(b: Body): EmailMessage {
  const text = `${b.lines.join('\n\n')}\n\n${b.link.label}: ${b.link.url}\n\n-- Latchkey\n`;
  const html =
    `<!doctype html><html><body style="font-family:sans-serif">` +
    b.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('') +
    `<p><a href="${escapeHtml(b.link.url)}">${escapeHtml(b.link.label)}</a></p><p style="color:#666">Latchkey</p></body></html>`;
  return { subject: b.subject, text, html };
}

/** Slack mrkdwn needs &, < and > escaped. */
const slackText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A Block Kit message for a Slack incoming webhook. The button only opens the portal: nothing is
 * approved from chat, where link previews and forwarded messages would act for people.
 */
export function slackMessage(type: string, payload: { data: unknown }): Record<string, unknown> {
  const d = payload.data as Partial<RequestEventData> & Record<string, unknown>;
  if (!d.requestId || !d.links || !d.requester) {
    const text = type === 'webhook.test' ? 'Latchkey test message: this endpoint receives Latchkey notifications.' : `Latchkey: ${type}`;
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: slackText(text) } }] };
  }
  const full = d as RequestEventData;
  const fields = [
    `*Requester*\n${slackText(full.requester.email)}`,
    `*Duration*\n${duration(full.durationMinutes)}`,
    `*Resources*\n${slackText(resourcesLine(full))}`,
    `*Flow*\n${slackText(full.flow.name)}`,
  ].map((text) => ({ type: 'mrkdwn', text }));
  if (APPROVER_EVENTS.has(type as NotificationEventType)) {
    const asked = (
      type === 'access_request.escalated'
        ? full.escalation
            .filter((t) => t.tier === full.escalationTier)
            .map((t) => ({ emails: t.emails, why: `escalation tier ${t.tier} (after ${t.afterMinutes} min)` }))
        : groupsAskedNow(full).map((g) => ({ emails: g.emails, why: approverReasonShort(g) }))
    ).map((g) => `${g.emails.map(slackText).join(', ') || '(nobody resolved)'}: ${slackText(g.why)}`);
    const headline = {
      'access_request.created': 'Access request waiting for approval',
      'access_request.partially_approved': 'Access request waiting for the next approvers',
      'access_request.reminder': 'Reminder: access request still waiting for approval',
      'access_request.escalated': 'Access request escalated',
    }[type as string]!;
    const text = `${headline}: ${full.requester.email}`;
    return {
      text,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: headline } },
        { type: 'section', fields },
        ...(full.justification ? [{ type: 'section', text: { type: 'mrkdwn', text: `*Justification*\n${slackText(full.justification)}` } }] : []),
        { type: 'section', text: { type: 'mrkdwn', text: `*Who is asked, and why*\n${asked.join('\n')}` } },
        {
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'Review in Latchkey' }, url: full.links.approve, style: 'primary' }],
        },
      ],
    };
  }
  const text = `Access request ${full.requestId} of ${full.requester.email}: ${type.replace('access_request.', '')}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: slackText(text) }, fields },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Latchkey' }, url: full.links.request }] },
    ],
  };
}

function approverReasonShort(g: RequestEventData['approvers'][number]): string {
  if (g.type === 'user') return 'named approver';
  if (g.type === 'group') return `approver group ${g.values.join(', ')}`;
  return `owner (${g.source ?? 'resource owner'})`;
}
