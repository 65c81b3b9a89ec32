import type { AuditEntry } from '@latchkey/contracts';
import { AUDIT_CSV_COLUMNS, auditCsv, auditCsvRecord, csvCell, csvRecord } from './audit-csv';

const entry = (seq: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: '3b241101-e2bb-4255-8caf-4136c566a962',
  seq,
  at: '2025-01-02T03:04:05.006Z',
  action: 'integration.updated',
  actor: { type: 'user', id: 'u1', email: 'a@example.com' },
  targetType: 'integration',
  targetId: 'i1',
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
  ...over,
});

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

async function* pagesOf(...pages: AuditEntry[][]): AsyncGenerator<AuditEntry[]> {
  for (const page of pages) yield page;
}

describe('csvCell', () => {
  it('leaves plain values alone and writes nothing for a missing one', () => {
    expect(csvCell('orders')).toBe('orders');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(null)).toBe('');
  });

  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('cr\rlf')).toBe('"cr\rlf"');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('a=1')).toBe('a=1');
  });
});

describe('audit CSV', () => {
  it('writes CRLF-terminated records', () => {
    expect(csvRecord(['a', 'b,c'])).toBe('a,"b,c"\r\n');
  });

  it('writes one column per field, diff and details as JSON', () => {
    const line = auditCsvRecord(entry(1, { targetName: '=cmd', diff: { port: { before: 1, after: 2 } }, details: { note: 'a,b' } }));
    expect(line).toBe(
      `1,2025-01-02T03:04:05.006Z,integration.updated,user,u1,a@example.com,integration,i1,'=cmd,"{""port"":{""before"":1,""after"":2}}","{""note"":""a,b""}",,3b241101-e2bb-4255-8caf-4136c566a962,${'a'.repeat(64)},${'b'.repeat(64)}\r\n`,
    );
    expect(line.split(',').length).toBeGreaterThanOrEqual(AUDIT_CSV_COLUMNS.length);
  });

  it('starts with the header row and writes every page', async () => {
    const text = await collect(auditCsv(pagesOf([entry(3), entry(2)], [entry(1)]), 100));
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(lines.slice(1, -1).map((l) => l.split(',')[0])).toEqual(['3', '2', '1']);
    expect(lines.at(-1)).toBe('');
  });

  it('writes only the header when nothing matches', async () => {
    expect(await collect(auditCsv(pagesOf([]), 100))).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
  });

  it('stops at the row cap without reading further pages', async () => {
    let read = 0;
    async function* endless(): AsyncGenerator<AuditEntry[]> {
      for (let seq = 1000; ; seq -= 2) {
        read += 1;
        yield [entry(seq), entry(seq - 1)];
      }
    }
    const text = await collect(auditCsv(endless(), 5));
    expect(text.split('\r\n').filter(Boolean)).toHaveLength(6);
    expect(read).toBe(3);
  });
});
