import type { AuditEntry } from '@latchkey/contracts';

/** Columns of the CSV export, in order; the first row of every export names them. */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'at',
  'action',
  'actorType',
  'actorId',
  'actorEmail',
  'targetType',
  'targetId',
  'targetName',
  'diff',
  'details',
  'sourceId',
  'id',
  'prevHash',
  'hash',
] as const;

// A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote or line break, quotes doubled; a value a
 * spreadsheet would run as a formula is prefixed with `'` so it shows as text.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated as RFC 4180 has it. */
export const csvRecord = (cells: readonly (string | number | null | undefined)[]): string => `${cells.map(csvCell).join(',')}\r\n`;

export const auditCsvHeader = (): string => csvRecord(AUDIT_CSV_COLUMNS);

const jsonOrEmpty = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));

export function auditCsvRecord(e: AuditEntry): string {
  return csvRecord([
    e.seq,
    e.at,
    e.action,
    e.actor.type,
    e.actor.id,
    e.actor.email,
    e.targetType,
    e.targetId,
    e.targetName,
    jsonOrEmpty(e.diff),
    jsonOrEmpty(e.details),
    e.sourceId,
    e.id,
    e.prevHash,
    e.hash,
  ]);
}

/**
 * The whole export as text chunks, one page at a time (so memory holds one page, and a slow
 * client slows the reads): the header row, then at most `maxRows` entries.
 */
export async function* auditCsv(pages: AsyncIterable<AuditEntry[]>, maxRows: number): AsyncGenerator<string> {
  yield auditCsvHeader();
  let written = 0;
  for await (const page of pages) {
    const rows = page.slice(0, maxRows - written);
    if (rows.length) yield rows.map(auditCsvRecord).join('');
    written += rows.length;
    if (written >= maxRows) return;
  }
}
