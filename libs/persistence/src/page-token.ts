/** Keyset position in creation order: the last row's creation time (milliseconds) and id. */
export interface PagePosition {
  createdAt: string;
  id: string;
}

export const encodePageToken = (p: PagePosition): string => Buffer.from(JSON.stringify({ createdAt: p.createdAt, id: p.id })).toString('base64url');

/** The position a page token holds, or undefined when it is not a token this API gave out. */
export function decodePageToken(token: string): PagePosition | undefined {
  try {
    const p = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PagePosition;
    if (typeof p.id === 'string' && /^[0-9a-f-]{36}$/.test(p.id) && typeof p.createdAt === 'string' && !Number.isNaN(Date.parse(p.createdAt))) return p;
  } catch {
    // not base64url JSON
  }
  return undefined;
}
