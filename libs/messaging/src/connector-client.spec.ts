import type { z } from 'zod';
import { AppException, Contracts, ErrorCode, subjectForConnector } from '@latchkey/contracts';
import type { RequestContract } from '@latchkey/contracts';
import { ConnectorClient, INTEGRATION_REUSE_MS, type RequestSender } from './connector-client';
import type { RequestOptions } from './message-bus';

const INTEGRATION = '3b241101-e2bb-4255-8caf-4136c566a962';
const MISSING = '0d6f3b0c-2f44-4c1e-9d51-6f3f7d1f0a11';

/** A catalog that knows one integration, served by connector `east`, and connectors that answer every refresh. */
class FakeBus implements RequestSender {
  readonly sent: Array<{ subject: string; payload: unknown; options?: RequestOptions }> = [];

  async request<Req extends z.ZodType, Res extends z.ZodType>(
    contract: RequestContract<Req, Res>,
    payload: z.input<Req>,
    options?: RequestOptions,
  ): Promise<z.output<Res>> {
    const subject = options?.connectorId ? subjectForConnector(contract, options.connectorId) : contract.subject;
    this.sent.push({ subject, payload, options });
    if (contract.subject === Contracts.catalogIntegrationsGet.subject) {
      const { id } = Contracts.catalogIntegrationsGet.request.parse(payload);
      if (id !== INTEGRATION) throw new AppException(ErrorCode.NotFound, `No integration with id ${id}.`);
      return contract.response.parse(integration(id, 'east'));
    }
    return contract.response.parse({ jobId: 'job-1', queued: true });
  }
}

function integration(id: string, connectorId: string) {
  const never = { lastRotatedAt: null, nextDueAt: null, lastAttemptAt: null, lastResult: null, lastError: null, pending: false };
  return {
    id,
    name: 'billing',
    type: 'postgresql',
    connectorId,
    connectedResourceTypes: [],
    config: {},
    secret: { store: 'builtin' },
    credentialRotationDays: null,
    customAccessDetails: null,
    integrationOwners: [],
    resourceOwnerMappings: [],
    status: 'ACTIVE',
    statusReason: null,
    lastTest: null,
    rotation: never,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:00:00.000Z',
  };
}

describe('ConnectorClient', () => {
  it("finds the integration's connector in the catalog, then sends to that connector's subject with the options given", async () => {
    const bus = new FakeBus();
    const answer = await new ConnectorClient(bus).request(Contracts.discoveryRefreshRequest, INTEGRATION, { integrationId: INTEGRATION }, { timeoutMs: 1234 });
    expect(answer).toEqual({ jobId: 'job-1', queued: true });
    expect(bus.sent.map((s) => s.subject)).toEqual(['catalog.integrations.get', 'connector.east.discovery.refresh']);
    expect(bus.sent[1]).toEqual({
      subject: 'connector.east.discovery.refresh',
      payload: { integrationId: INTEGRATION },
      options: { timeoutMs: 1234, connectorId: 'east' },
    });
  });

  it("answers the catalog's NOT_FOUND for an integration it does not know, and sends nothing to any connector", async () => {
    const bus = new FakeBus();
    const sending = new ConnectorClient(bus).request(Contracts.discoveryRefreshRequest, MISSING, { integrationId: MISSING });
    await expect(sending).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(bus.sent.map((s) => s.subject)).toEqual(['catalog.integrations.get']);
  });

  it('routes without asking the catalog when the integration was already read, or its connector is known', async () => {
    const bus = new FakeBus();
    const client = new ConnectorClient(bus);
    const read = await client.integration(INTEGRATION);
    await client.request(Contracts.discoveryRefreshRequest, read, { integrationId: read.id });
    await client.request(Contracts.discoveryRefreshRequest, { connectorId: 'west' }, { integrationId: read.id });
    expect(bus.sent.map((s) => s.subject)).toEqual(['catalog.integrations.get', 'connector.east.discovery.refresh', 'connector.west.discovery.refresh']);
  });

  describe('recentIntegration', () => {
    const reads = (bus: FakeBus) => bus.sent.filter((s) => s.subject === 'catalog.integrations.get').length;

    it('reuses a read for INTEGRATION_REUSE_MS, then asks the catalog again', async () => {
      const bus = new FakeBus();
      let now = 1_000_000;
      const client = new ConnectorClient(bus, () => now);
      const first = await client.recentIntegration(INTEGRATION);
      now += INTEGRATION_REUSE_MS - 1;
      expect(await client.recentIntegration(INTEGRATION)).toBe(first);
      expect(reads(bus)).toBe(1);
      now += 1;
      await client.recentIntegration(INTEGRATION);
      expect(reads(bus)).toBe(2);
    });

    it('asks the catalog again once the integration is forgotten (its change announced), and after a plain read reuses that one', async () => {
      const bus = new FakeBus();
      const client = new ConnectorClient(bus, () => 0);
      await client.recentIntegration(INTEGRATION);
      client.forget(INTEGRATION);
      await client.recentIntegration(INTEGRATION);
      expect(reads(bus)).toBe(2);
      const fresh = await client.integration(INTEGRATION);
      expect(await client.recentIntegration(INTEGRATION)).toBe(fresh);
      expect(reads(bus)).toBe(3);
    });

    it('does not keep a failed read: NOT_FOUND is asked again, not remembered', async () => {
      const bus = new FakeBus();
      const client = new ConnectorClient(bus, () => 0);
      await expect(client.recentIntegration(MISSING)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      await expect(client.recentIntegration(MISSING)).rejects.toMatchObject({ code: ErrorCode.NotFound });
      expect(reads(bus)).toBe(2);
    });
  });
});
