import { defineQueue, handlerMismatch, payloadIds, queueNameOf } from './queue-definition';
import { QueueName } from './queues';

const shared = defineQueue({
  name: QueueName.AccessGrants,
  perConnector: false,
  jobs: ['grant-request'],
  jobOptions: {},
  worker: {},
  failureMessage: 'failed',
});
const perConnector = defineQueue({
  name: QueueName.Revocations,
  perConnector: true,
  jobs: ['revoke-grant'],
  jobOptions: {},
  worker: {},
  failureMessage: 'failed',
});

describe('queueNameOf', () => {
  it("keeps a shared queue's name and gives a per-connector queue the connector's", () => {
    expect(queueNameOf(shared, 'pg-main')).toBe('access-grants');
    expect(queueNameOf(perConnector, 'pg-main')).toBe('revocations-pg-main');
  });

  it('refuses a per-connector queue in a service without a connector', () => {
    expect(() => queueNameOf(perConnector, undefined)).toThrow('queue revocations is per connector: this service has no connector id');
  });
});

describe('payloadIds', () => {
  it('keeps the string fields named ...Id and nothing else', () => {
    expect(payloadIds({ grantId: 'g-1', requestId: 'r-1', password: 'secret', attemptId: 3 })).toEqual({ grantId: 'g-1', requestId: 'r-1' });
  });

  it('says nothing of a payload that is not an object', () => {
    expect(payloadIds(undefined)).toEqual({});
    expect(payloadIds('grantId')).toEqual({});
  });
});

describe('handlerMismatch', () => {
  it('names the jobs without a handler and the handlers of jobs the queue does not carry', () => {
    expect(handlerMismatch(shared, { 'grant-request': () => Promise.resolve() })).toEqual([]);
    expect(handlerMismatch(shared, { 'revoke-grant': () => Promise.resolve() })).toEqual([
      'no handler for grant-request',
      'a handler for revoke-grant, which access-grants does not carry',
    ]);
  });
});
