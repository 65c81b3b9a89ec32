import { Webhook as StandardWebhook } from 'standardwebhooks';
import { webhookDisplayUrl } from '@latchkey/contracts';
import { nextDelayMs, isSuccess } from '../delivery/retry-schedule';
import { newWebhookSecret, webhookHeaders } from '../messages/signature';
import { isPrivateAddress, urlProblem } from '../channels/url-policy';

describe('Standard Webhooks signatures', () => {
  const body = JSON.stringify({ type: 'access_request.created', timestamp: '2026-12-01T00:00:00.000Z', data: { requestId: 'r1' } });

  it('verifies with the reference implementation', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const headers = webhookHeaders([secret], 'msg_1', Math.floor(Date.now() / 1000), body);
    expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('carries one signature per secret during a rotation, each verifiable alone', () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const headers = webhookHeaders([newSecret, oldSecret], 'msg_2', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of [oldSecret, newSecret]) expect(() => new StandardWebhook(s).verify(body, headers)).not.toThrow();
    expect(() => new StandardWebhook(newWebhookSecret()).verify(body, headers)).toThrow();
    expect(() => new StandardWebhook(newSecret).verify(`${body} `, headers)).toThrow();
  });
});

describe('webhook URLs', () => {
  it.each([
    ['http://127.0.0.1:9000/hook', true],
    ['http://10.1.2.3/x', true],
    ['http://[::1]/x', true],
    ['http://[::ffff:127.0.0.1]/x', true],
    ['http://169.254.169.254/latest/meta-data', true],
    ['http://localhost:8080/x', true],
    ['https://hooks.example.com/x', false],
    ['https://93.184.216.34/x', false],
  ])('%s refused unless private URLs are allowed: %s', (url, refused) => {
    expect(urlProblem(url, false) !== null).toBe(refused);
    expect(urlProblem(url, true)).toBeNull();
  });

  it('refuses what is not http(s)', () => {
    expect(urlProblem('ftp://example.com/x', true)).toMatch(/http/);
    expect(urlProblem('not a url', true)).toMatch(/absolute/);
    expect(urlProblem('https://example.com/x#frag', true)).toMatch(/fragment/);
  });

  it('never shows credentials back', () => {
    expect(webhookDisplayUrl('https://user:pa55@example.com/hook?token=abc&x=1', 'standard')).toBe('https://***@example.com/hook?token=***&x=***');
    expect(webhookDisplayUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET', 'slack')).toBe('https://hooks.slack.com/services/***');
  });

  it('knows private addresses in every spelling', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.5', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:7f00:1'])
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    for (const a of ['8.8.8.8', '2606:4700::1111', '172.32.0.1']) expect([a, isPrivateAddress(a)]).toEqual([a, false]);
  });
});

describe('retry schedule', () => {
  it('waits as the schedule says, with at most 10% jitter, and stops after its last entry', () => {
    const schedule = [0, 5, 300];
    expect(nextDelayMs(schedule, 0, () => 0.99)).toBe(0);
    for (const r of [0, 0.5, 0.999]) {
      const d = nextDelayMs(schedule, 1, () => r)!;
      expect(d).toBeGreaterThanOrEqual(4500);
      expect(d).toBeLessThanOrEqual(5500);
    }
    expect(nextDelayMs(schedule, 3)).toBeNull();
  });

  it('counts only 2xx', () => {
    expect([199, 200, 204, 299, 300, 410, 500, null].map(isSuccess)).toEqual([false, true, true, true, false, false, false, false]);
  });
});
