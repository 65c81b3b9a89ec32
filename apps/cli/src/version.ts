/** The CLI's version: the one Latchkey release it belongs to (kept equal to package.json's by a test). */
export const VERSION = '1.3.0';
