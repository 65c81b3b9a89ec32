import { Tags } from '@latchkey/contracts';

const TAG_LINE = /^\s*latchkey:([^=\s]+)=(.*?)\s*$/;

/**
 * Tags an object's COMMENT declares, one `latchkey:key=value` line each (the rest of the comment
 * is prose). A later line wins over an earlier one; a line whose key or value breaks the API's own
 * tag rules is ignored, so that comment tags are always tags the API could have set.
 */
export function parseCommentTags(comment: string | null): Record<string, string> {
  // A Map, then own properties: a key such as `__proto__` stays a plain tag.
  const tags = new Map<string, string>();
  for (const line of comment?.split(/\r?\n/) ?? []) {
    const match = TAG_LINE.exec(line);
    if (!match) continue;
    const [, key, value] = match;
    if (Tags.safeParse(Object.fromEntries([[key, value]])).success) tags.set(key, value);
  }
  return Object.fromEntries(tags);
}
