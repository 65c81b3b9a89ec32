import type { AccessFlow } from '@latchkey/contracts';
import { emptyFlow, flowErrors, flowValuesOf, toFlowBody } from './access-flow-form';

const INTEGRATION = '3f1c9a4e-8d2b-4c6a-9e1f-0a1b2c3d4e5f';

describe('the access flow editor', () => {
  const filled = () => {
    const v = emptyFlow();
    return {
      ...v,
      name: 'Analysts',
      requestors: { ...v.requestors, conditions: [{ type: 'group' as const, attribute: '', match: 'is' as const, values: 'analysts, bi' }] },
      targets: [{ ...v.targets[0], integrationId: INTEGRATION }],
    };
  };

  it("makes the API's body: lists split, OWNER without values, automatic approval as null", () => {
    const body = toFlowBody(filled());
    expect(body).toMatchObject({
      name: 'Analysts',
      requestors: { operator: 'OR', conditions: [{ type: 'group', match: 'is', values: ['analysts', 'bi'] }] },
      targets: [{ integrationId: INTEGRATION, resourceType: 'postgresql-table', permissions: ['READ_ONLY'] }],
      approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER' }] },
      maxDurationMinutes: 60,
      timeframe: null,
      settings: { justificationRequired: true, approverReasonRequired: false, maxExtensions: 0 },
    });
    expect(toFlowBody({ ...filled(), automatic: true }).approvers).toBeNull();
    expect(flowErrors(filled())).toEqual({});
  });

  it("marks each field with the API's rule, on the API's path", () => {
    const v = filled();
    expect(flowErrors({ ...v, maxDurationMinutes: '0' }).maxDurationMinutes).toBe('must be at least 1');
    expect(flowErrors({ ...v, targets: [{ ...v.targets[0], permissions: [] }] })['targets.0.permissions']).toBe('must list at least one permission');
    expect(
      flowErrors({ ...v, targets: [{ ...v.targets[0], select: 'include', resources: { by: 'id', key: '', values: 'not-a-uuid' } }] })[
        'targets.0.resources.values.0'
      ],
    ).toBe('must be a resource id (UUID) when by is id');
    expect(flowErrors({ ...v, approvers: { mode: 'ALL_OF', groups: [{ type: 'group', values: '' }] } })['approvers.groups.0.values']).toBe(
      'must list at least one value',
    );
    expect(flowErrors({ ...v, timeframeOn: true, timeframe: { ...v.timeframe, end: v.timeframe.start } })['timeframe.end']).toBe('must differ from start');
    expect(flowErrors({ ...v, timeframeOn: true, timeframe: { ...v.timeframe, timeZone: 'Mars/Olympus' } })['timeframe.timeZone']).toMatch(/IANA time zone/);
  });

  it('round-trips a stored flow through the editor', () => {
    const flow = { ...toFlowBody(filled()), id: INTEGRATION, active: true, createdAt: 'x', updatedAt: 'y' } as unknown as AccessFlow;
    flow.settings = { ...flow.settings, requesterCannotApprove: true };
    expect(toFlowBody(flowValuesOf(flow))).toEqual(toFlowBody(filled()));
  });
});
