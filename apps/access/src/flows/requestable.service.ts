import { Injectable } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import type { Caller, Integration, ReceivedOf, RequestablePage } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { FlowsRepository } from './flows.repository';
import { flowsOfferedTo, offersOf, ownerIntegrationsOf, selectionsOf } from './requestable';

type RequestableQuery = ReceivedOf<typeof Contracts.accessMeRequestablePage>['query'];

/** Discovery pages asked for one answer at most: resources no flow permission fits are skipped, so a page may need a few. */
const MAX_SELECTION_PAGES = 10;

/** "What may I request": the inventory seen through the caller's active flows, paged by path. */
@Injectable()
export class RequestableService {
  constructor(
    private readonly flows: FlowsRepository,
    private readonly bus: MessageBus,
  ) {}

  async forCaller(caller: Caller, query: RequestableQuery): Promise<RequestablePage> {
    const flows = flowsOfferedTo(await this.flows.allActive(), caller);
    if (flows.length === 0) return { flows: [], items: [] };
    // The integration matters only to name a resource's owner: asked for once, beside the first page, and only
    // for integrations a flow approved by OWNER points at.
    const integrations = new Map<string, Promise<Integration | undefined>>(
      ownerIntegrationsOf(flows).map((id) => [id, this.bus.request(Contracts.catalogIntegrationsGet, { id }).catch(() => undefined)]),
    );
    const { flows: shown, offer } = offersOf(flows, new Date());
    const targets = selectionsOf(flows);
    const items: RequestablePage['items'] = [];
    let pageToken = query.pageToken;
    for (let page = 0; page < MAX_SELECTION_PAGES && items.length < query.pageSize; page++) {
      // Ask for exactly what is missing: every resource scanned is then either answered or skipped, and
      // discovery's token after the last one scanned is the right place to go on from.
      const selected = await this.bus.request(Contracts.discoveryResourcesSelect, { ...query, pageSize: query.pageSize - items.length, pageToken, targets });
      for (const resource of selected.items) {
        const item = offer(resource, await integrations.get(resource.integrationId));
        if (item) items.push(item);
      }
      pageToken = selected.nextPageToken;
      if (!pageToken) break;
    }
    return pageToken ? { flows: shown, items, nextPageToken: pageToken } : { flows: shown, items };
  }
}
