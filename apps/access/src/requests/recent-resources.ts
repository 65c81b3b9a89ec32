import type { Resource } from '@latchkey/contracts';
import { RecentReads } from '@latchkey/messaging';

/** How long a read of a resource is reused when no change is announced (a lost announcement is caught up this late). */
export const RESOURCE_REUSE_MS = 5_000;

/**
 * Resources as discovery answered them a moment ago, for the hot path of an access request: every
 * request reads its items' resources (type, permissions, tags, owner). A read is reused for
 * RESOURCE_REUSE_MS at most, and forgotten at once when a change is announced: a refresh of the
 * resource's integration (`discovery.resources.changed`), its tags replaced
 * (`discovery.resource.tags-changed`), or its integration changed (`catalog.integration.changed`).
 * A failed read is not kept.
 */
export class RecentResources extends RecentReads<Resource> {
  constructor(now: () => number = Date.now) {
    super(RESOURCE_REUSE_MS, (resource) => resource.integrationId, now);
  }

  /** Every resource of the integration may have changed; a read still unanswered may be one of them. */
  forgetIntegration(integrationId: string): void {
    this.forgetGroup(integrationId);
  }
}
