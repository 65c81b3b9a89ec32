import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metric } from '@latchkey/messaging';

const BEGIN = '<!-- metrics table: generated from libs/messaging/src/metric-catalogue.ts by tools/readme-metrics.spec.ts -->';
const END = '<!-- end of metrics table -->';

/** The README's table of metrics, as the catalogue says it should read. */
function expectedTable(): string {
  const rows = Object.values(Metric).map((d) => {
    const labels = d.labelNames.length ? d.labelNames.map((l) => `\`${l}\``).join(', ') : '';
    return `| \`${d.name}\` | ${d.kind} | ${labels} | ${d.from} | ${d.help.replace(/\|/g, '\\|')} |`;
  });
  return ['| metric | type | labels (besides `service`, `connector`) | from | what it says |', '|---|---|---|---|---|', ...rows].join('\n');
}

describe('README: the metrics table', () => {
  it('lists exactly the metrics the code declares, with their types and labels', () => {
    const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect({ begin: start >= 0, end: end > start }).toEqual({ begin: true, end: true });
    // On a difference, the expected text below is what to paste between the two markers.
    expect(readme.slice(start + BEGIN.length, end).trim()).toBe(expectedTable());
  });
});
