import { z } from 'zod';
import { AccessFlowInput, AccessRequestInput } from './access';
import { AuditQuery } from './audit';
import { ResourceQuery, Tags } from './discovery';
import { issuesFromZod } from './errors';
import { TokenInput, UserInput } from './identities';
import { GrantItem } from './provisioning';
import { CLEAN_TEXT_RULE, Expiry, isCleanText, text, Timestamp, TIMESTAMP_RANGE_RULE } from './text';

const rules = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : issuesFromZod(parsed.error);
};

describe('clean text', () => {
  it('refuses NUL and lone surrogates, keeps paired ones (emoji) and ordinary unicode', () => {
    expect(isCleanText('a\u0000b')).toBe(false);
    expect(isCleanText('\ud800')).toBe(false);
    expect(isCleanText('x\udc00y')).toBe(false);
    expect(isCleanText('\udc00\ud800')).toBe(false);
    expect(isCleanText('😀 Zoë 東京')).toBe(true);
    expect(text({ max: 10 }).safeParse('ok').success).toBe(true);
  });

  it.each([
    ['a token name', TokenInput, { userId: '00000000-0000-4000-8000-000000000000', name: 'ci\u0000' }, 'name'],
    ['a resource search', ResourceQuery, { q: 'x\ud800' }, 'q'],
    [
      'a justification',
      AccessRequestInput,
      { items: [{ resourceId: '00000000-0000-4000-8000-000000000000', permission: 'READ_ONLY' }], durationMinutes: 5, justification: '\u0000' },
      'justification',
    ],
    ['a user attribute value', UserInput, { email: 'a@example.com', name: 'A', attributes: { team: 'x\udfff' } }, 'attributes.team'],
    ['a tag value', Tags, { owner: '\u0000' }, 'owner'],
    ['an audit filter', AuditQuery, { action: '\u0000' }, 'action'],
    ['a PostgreSQL name', GrantItem, { resourceType: 'postgresql-database', database: 'd\ud800', permission: 'READ_ONLY' }, 'database'],
  ])('is required of %s', (_what, schema, value, field) => {
    expect(rules(schema, value)).toContainEqual({ field, rule: CLEAN_TEXT_RULE });
  });

  it('covers the free text of access flows (names, values, time zones)', () => {
    const flow = {
      name: 'n\u0000',
      requestors: { conditions: [{ type: 'group', match: 'is', values: ['\ud800'] }] },
      targets: [{ integrationId: '00000000-0000-4000-8000-000000000000', resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
      approvers: null,
      maxDurationMinutes: 5,
      timeframe: { days: ['MON'], start: '09:00', end: '17:00', timeZone: 'UTC\u0000' },
    };
    const fields = rules(AccessFlowInput, flow)
      .filter((i) => i.rule === CLEAN_TEXT_RULE)
      .map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'requestors.conditions.0.values.0', 'timeframe.timeZone']));
  });
});

describe('timestamps', () => {
  it('accepts ISO 8601 instants with an offset within range', () => {
    expect(Timestamp.safeParse('2026-12-01T12:00:00Z').success).toBe(true);
    expect(Timestamp.safeParse('2026-12-01T12:00:00.123+02:00').success).toBe(true);
  });

  it('refuses dates PostgreSQL or JavaScript cannot hold, naming the range', () => {
    expect(rules(Timestamp, '0000-01-01T00:00:00Z')).toEqual([{ field: '(body)', rule: TIMESTAMP_RANGE_RULE }]);
    expect(rules(Timestamp, '9999-12-31T23:59:59Z')).toEqual([{ field: '(body)', rule: TIMESTAMP_RANGE_RULE }]);
    expect(rules(Timestamp, '2024-02-30T00:00:00Z')[0].rule).toMatch(/ISO 8601/);
    expect(rules(Timestamp, '2026-12-01')[0].rule).toMatch(/ISO 8601/);
  });

  it('keeps an expiry within a year from now, so the grace period cannot push it out of range', () => {
    expect(Expiry.safeParse(new Date(Date.now() + 3_600_000).toISOString()).success).toBe(true);
    expect(rules(Expiry, '8999-01-01T00:00:00Z')[0].rule).toBe('must be at most 525600 minutes (a year) from now');
  });
});
