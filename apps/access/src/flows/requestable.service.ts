import { Injectable } from '@nestjs/common';
import { Contracts } from '@latchkey/contracts';
import type { Caller, Integration, ReceivedOf, RequestableItem } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { FlowsRepository } from './flows.repository';
import { flowsOfferedTo, offersOf, selectionsOf } from './requestable';

type RequestableQuery = ReceivedOf<typeof Contracts.accessMeRequestable>['query'];

/** Discovery pages asked for one answer at most: resources no flow permission fits are skipped, so a page may need a few. */
const MAX_SELECTION_PAGES = 10;

/** "What may I request": the inventory seen through the caller's active flows, paged by path. */
@Injectable()
export class RequestableService {
  constructor(
    private readonly flows: FlowsRepository,
    private readonly bus: MessageBus,
  ) {}

  async forCaller(caller: Caller, query: RequestableQuery): Promise<{ items: RequestableItem[]; nextPageToken?: string }> {
    const flows = flowsOfferedTo(await this.flows.allActive(), caller);
    if (flows.length === 0) return { items: [] };
    const integrations = new Map<string, Promise<Integration | undefined>>();
    const integration = (id: string) => {
      if (!integrations.has(id)) integrations.set(id, this.bus.request(Contracts.catalogIntegrationsGet, { id }).catch(() => undefined));
      return integrations.get(id)!;
    };
    const offer = offersOf(flows, new Date());
    const items: RequestableItem[] = [];
    let pageToken = query.pageToken;
    for (let page = 0; page < MAX_SELECTION_PAGES && items.length < query.pageSize; page++) {
      // Ask for exactly what is missing: every resource scanned is then either answered or skipped, and
      // discovery's token after the last one scanned is the right place to go on from.
      const selected = await this.bus.request(Contracts.discoveryResourcesSelect, { ...query, pageSize: query.pageSize - items.length, pageToken, targets: selectionsOf(flows) });
      for (const resource of selected.items) {
        const item = offer(resource, await integration(resource.integrationId));
        if (item) items.push(item);
      }
      pageToken = selected.nextPageToken;
      if (!pageToken) break;
    }
    return pageToken ? { items, nextPageToken: pageToken } : { items };
  }
}
