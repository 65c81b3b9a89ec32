import { MASTER_KEY_MISMATCH } from '@latchkey/secrets';

/** Loud on purpose: secrets sealed with another key cannot be used until that key is back. */
export function masterKeyWarning({ unreadable, checked }: { unreadable?: number; checked?: number }, created: boolean): string {
  const rule = '!'.repeat(78);
  return (
    [
      '',
      rule,
      `!! WARNING: ${MASTER_KEY_MISMATCH}:`,
      `!! ${unreadable} of ${checked} stored secrets were sealed with another master key and cannot be opened.`,
      created
        ? '!! npm start has just created a NEW key in .latchkey/master.key (it was missing), but this database'
        : '!! The key in use (LATCHKEY_MASTER_KEY, LATCHKEY_MASTER_KEY_FILE or .latchkey/master.key) is not the one',
      created ? '!! was used with another one.' : '!! those secrets were sealed with.',
      '!! Fix: stop (Ctrl-C), put the old key back (in .latchkey/master.key or LATCHKEY_MASTER_KEY; several',
      "!! comma-separated keys all decrypt), and start again; or enter the integrations' secrets again.",
      rule,
      '',
    ].join('\n') + '\n'
  );
}
