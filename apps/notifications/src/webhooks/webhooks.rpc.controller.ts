import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { PayloadOf, ReceivedOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import { IngestService } from '../events/ingest.service';
import { WebhooksService } from './webhooks.service';

type Req<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

@Controller()
export class WebhooksRpcController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly ingest: IngestService,
  ) {}

  @Rpc(Contracts.notificationsWebhooksCreate)
  create(@Payload() { input, actor }: Req<'notificationsWebhooksCreate'>) {
    return this.webhooks.create(input, actor);
  }

  @Rpc(Contracts.notificationsWebhooksList)
  list(@Payload() { pageSize, pageToken }: Req<'notificationsWebhooksList'>) {
    return this.webhooks.list(pageSize, pageToken);
  }

  @Rpc(Contracts.notificationsWebhooksGet)
  get(@Payload() { id }: Req<'notificationsWebhooksGet'>) {
    return this.webhooks.get(id);
  }

  @Rpc(Contracts.notificationsWebhooksUpdate)
  update(@Payload() { id, input, actor }: Req<'notificationsWebhooksUpdate'>) {
    return this.webhooks.update(id, input, actor);
  }

  @Rpc(Contracts.notificationsWebhooksDelete)
  delete(@Payload() { id, actor }: Req<'notificationsWebhooksDelete'>) {
    return this.webhooks.delete(id, actor);
  }

  @Rpc(Contracts.notificationsWebhooksRotateSecret)
  rotateSecret(@Payload() { id, actor }: Req<'notificationsWebhooksRotateSecret'>) {
    return this.webhooks.rotateSecret(id, actor);
  }

  @Rpc(Contracts.notificationsWebhooksTest)
  test(@Payload() { id, actor }: Req<'notificationsWebhooksTest'>) {
    return this.webhooks.test(id, actor);
  }

  @Rpc(Contracts.notificationsDeliveriesList)
  deliveries(@Payload() { id, status, pageSize, pageToken }: Req<'notificationsDeliveriesList'>) {
    return this.webhooks.deliveries(id, status, pageSize, pageToken);
  }

  @Rpc(Contracts.notificationsDeliveriesRedeliver)
  redeliver(@Payload() { id, deliveryId, actor }: Req<'notificationsDeliveriesRedeliver'>) {
    return this.webhooks.redeliver(id, deliveryId, actor);
  }

  /** A hint that the audit log grew (at-most-once: the sweeper reads it on an interval anyway). */
  @OnEvent(Contracts.accessRequestChanged)
  requestChanged(@Payload() _event: PayloadOf<typeof Contracts.accessRequestChanged>) {
    return this.ingest.catchUp();
  }
}
