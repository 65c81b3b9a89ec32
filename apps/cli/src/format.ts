// Pure text helpers, apart from the terminal (and testable without it).

/** A plain table: columns padded to the widest cell. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `2h`, `90m`, `1h30m`, `1d` or plain minutes -> minutes. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) > 0 ? Number(trimmed) : null;
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(trimmed);
  if (!match || trimmed === '') return null;
  const [, d, h, m, s] = match.map((v) => Number(v ?? 0));
  const minutes = d * 1440 + h * 60 + m + s / 60;
  return minutes > 0 ? minutes : null;
}
