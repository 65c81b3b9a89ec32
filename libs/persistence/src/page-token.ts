/** Keyset position in creation order: the last row's creation time (milliseconds) and id. */
export interface PagePosition {
  createdAt: string;
  id: string;
}

export const encodePageToken = (p: PagePosition): string => Buffer.from(JSON.stringify({ createdAt: p.createdAt, id: p.id })).toString('base64url');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isIsoInstant = (v: string) => {
  const ms = Date.parse(v);
  return v.length === 24 && !Number.isNaN(ms) && new Date(ms).toISOString() === v;
};

/** The position a page token holds, or undefined when it is not a token this API gave out. */
export function decodePageToken(token: string): PagePosition | undefined {
  try {
    const p = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PagePosition;
    // Exactly what encodePageToken wrote (an ISO instant and a UUID): anything else would reach SQL as a bad cast.
    if (typeof p.id === 'string' && UUID.test(p.id) && typeof p.createdAt === 'string' && isIsoInstant(p.createdAt))
      return { createdAt: p.createdAt, id: p.id };
  } catch {
    // not base64url JSON
  }
  return undefined;
}
