import { expandRequestablePage, type RequestablePage, requestablePageJson } from './requestable';

const flow = (n: number, extra: Partial<RequestablePage['flows'][number]> = {}): RequestablePage['flows'][number] => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  name: `flow ${n} "quoted" \u00e9 \u2028 <script>`,
  maxDurationMinutes: 60 * n,
  approvalRequired: n % 2 === 0,
  approvers: n % 2 === 0 ? 'any of: group dba' : 'automatic',
  justificationRequired: n === 2,
  maxExtensions: n,
  timeframe: n === 3 ? 'Mon-Fri 09:00-17:00 Europe/Paris' : null,
  availableNow: n !== 3,
  ...extra,
});

const resource = (path: string): RequestablePage['items'][number]['resource'] => ({
  id: '00000000-0000-4000-8000-0000000000aa',
  integrationId: '00000000-0000-4000-8000-0000000000bb',
  type: 'postgresql-table',
  kind: 'table',
  path,
  parts: { database: 'app', schema: 'sales', name: path.split('/').pop()! },
  owner: null,
  comment: 'line one\nline "two"',
  tags: { owner: 'payments' },
  apiTags: {},
  permissions: ['READ_ONLY', 'READ_WRITE'],
  managed: false,
  unrequestableReason: null,
  discoveredAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

describe('requestablePageJson: the written-out answer as UTF-8, without building it', () => {
  const pages: Array<[string, RequestablePage]> = [
    ['no flow offers anything', { flows: [], items: [] }],
    [
      'plain offers, an offer of fewer permissions, one whose owner approves, and a next page',
      {
        flows: [flow(1), flow(2), flow(3)],
        items: [
          { resource: resource('app/sales/orders'), permissions: ['READ_ONLY', 'READ_WRITE'], offers: [0, 2, { flow: 1, permissions: ['READ_ONLY'] }] },
          {
            resource: resource('app/sales/in"voices'),
            permissions: ['READ_ONLY'],
            offers: [{ flow: 1, permissions: ['READ_ONLY'], approvers: 'any of: resource owner (tag owner=payments)' }, 0],
          },
          { resource: resource('app/sales/empty'), permissions: [], offers: [] },
        ],
        nextPageToken: 'eyJwYXRoIjoiYXBwL3NhbGVzL2VtcHR5In0',
      },
    ],
    [
      'a last page (no token), one flow on many rows',
      {
        flows: [flow(4)],
        items: Array.from({ length: 20 }, (_, i) => ({ resource: resource(`app/s/t${i}`), permissions: ['READ_ONLY' as const], offers: [0] })),
      },
    ],
  ];

  it.each(pages)('writes the same text as serializing the expanded page: %s', (_name, page) => {
    const text = new TextDecoder().decode(requestablePageJson(page));
    expect(text).toBe(JSON.stringify(expandRequestablePage(page)));
    expect(JSON.parse(text)).toEqual(expandRequestablePage(page));
  });

  it("gives each row's flows the row's permissions, and the override's where an offer differs", () => {
    const [, page] = pages[1]!;
    const parsed = JSON.parse(new TextDecoder().decode(requestablePageJson(page))) as {
      items: Array<{ flows: Array<{ name: string; permissions: string[]; approvers: string }> }>;
    };
    expect(parsed.items[0]!.flows.map((f) => [f.name.slice(0, 6), f.permissions])).toEqual([
      ['flow 1', ['READ_ONLY', 'READ_WRITE']],
      ['flow 3', ['READ_ONLY', 'READ_WRITE']],
      ['flow 2', ['READ_ONLY']],
    ]);
    expect(parsed.items[1]!.flows[0]!.approvers).toBe('any of: resource owner (tag owner=payments)');
  });
});
