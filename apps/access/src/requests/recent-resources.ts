import type { Resource } from '@latchkey/contracts';

/** How long a read of a resource is reused when no change is announced (a lost announcement is caught up this late). */
export const RESOURCE_REUSE_MS = 5_000;
const MAX_KEPT = 10_000;

interface Kept {
  at: number;
  read: Promise<Resource>;
  /** Known once the read answered. */
  integrationId?: string;
}

/**
 * Resources as discovery answered them a moment ago, for the hot path of an access request: every
 * request reads its items' resources (type, permissions, tags, owner). A read is reused for
 * RESOURCE_REUSE_MS at most, and forgotten at once when a change is announced: a refresh of the
 * resource's integration (`discovery.resources.changed`), its tags replaced
 * (`discovery.resource.tags-changed`), or its integration changed (`catalog.integration.changed`).
 * A failed read is not kept.
 */
export class RecentResources {
  private readonly recent = new Map<string, Kept>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The resource as read at most RESOURCE_REUSE_MS ago and not changed since, else `read()` now. */
  get(id: string, read: () => Promise<Resource>): Promise<Resource> {
    const hit = this.recent.get(id);
    if (hit && this.now() - hit.at < RESOURCE_REUSE_MS) return hit.read;
    if (this.recent.size >= MAX_KEPT) this.recent.clear();
    const kept: Kept = { at: this.now(), read: read() };
    this.recent.set(id, kept);
    kept.read.then(
      (resource) => (kept.integrationId = resource.integrationId),
      () => {
        if (this.recent.get(id) === kept) this.recent.delete(id);
      },
    );
    return kept.read;
  }

  /** One resource changed. */
  forget(id: string): void {
    this.recent.delete(id);
  }

  /** Every resource of the integration may have changed; a read still unanswered may be one of them. */
  forgetIntegration(integrationId: string): void {
    for (const [id, kept] of this.recent) if (kept.integrationId === undefined || kept.integrationId === integrationId) this.recent.delete(id);
  }
}
