import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts } from '@latchkey/contracts';
import type { PayloadOf } from '@latchkey/contracts';
import { OnEvent, Rpc } from '@latchkey/messaging';
import type { Received } from '@latchkey/messaging';
import { IngestService } from '../events/ingest.service';
import { WebhooksService } from './webhooks.service';

@Controller()
export class WebhooksRpcController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly ingest: IngestService,
  ) {}

  @Rpc(Contracts.notificationsWebhooksCreate)
  create(@Payload() { input, actor }: Received<'notificationsWebhooksCreate'>) {
    return this.webhooks.create(input, actor);
  }

  @Rpc(Contracts.notificationsWebhooksList)
  list(@Payload() { pageSize, pageToken }: Received<'notificationsWebhooksList'>) {
    return this.webhooks.list(pageSize, pageToken);
  }

  @Rpc(Contracts.notificationsWebhooksGet)
  get(@Payload() { id }: Received<'notificationsWebhooksGet'>) {
    return this.webhooks.get(id);
  }

  @Rpc(Contracts.notificationsWebhooksUpdate)
  update(@Payload() { id, input, actor }: Received<'notificationsWebhooksUpdate'>) {
    return this.webhooks.update(id, input, actor);
  }

  @Rpc(Contracts.notificationsWebhooksDelete)
  delete(@Payload() { id, actor }: Received<'notificationsWebhooksDelete'>) {
    return this.webhooks.delete(id, actor);
  }

  @Rpc(Contracts.notificationsWebhooksRotateSecret)
  rotateSecret(@Payload() { id, actor }: Received<'notificationsWebhooksRotateSecret'>) {
    return this.webhooks.rotateSecret(id, actor);
  }

  @Rpc(Contracts.notificationsWebhooksTest)
  test(@Payload() { id, actor }: Received<'notificationsWebhooksTest'>) {
    return this.webhooks.test(id, actor);
  }

  @Rpc(Contracts.notificationsDeliveriesList)
  deliveries(@Payload() { id, status, pageSize, pageToken }: Received<'notificationsDeliveriesList'>) {
    return this.webhooks.deliveries(id, status, pageSize, pageToken);
  }

  @Rpc(Contracts.notificationsDeliveriesRedeliver)
  redeliver(@Payload() { id, deliveryId, actor }: Received<'notificationsDeliveriesRedeliver'>) {
    return this.webhooks.redeliver(id, deliveryId, actor);
  }

  /** A hint that the audit log grew (at-most-once: the sweeper reads it on an interval anyway). */
  @OnEvent(Contracts.accessRequestChanged)
  requestChanged(@Payload() _event: PayloadOf<typeof Contracts.accessRequestChanged>) {
    this.ingest.catchUpSoon();
  }
}
