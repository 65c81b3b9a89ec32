import { AccessFlowInput } from '@latchkey/contracts';
import type { AccessFlow, MatchOperator, Permission, ResourceType, Weekday } from '@latchkey/contracts';
import { numberOrText, schemaErrors, splitList } from '../forms/form-state';
import type { FieldErrors } from '../forms/form-state';

/** The editor's boxes; `toFlowBody` makes the API body, whose field paths the errors use. */
export interface FlowValues {
  name: string;
  active: boolean;
  requestors: { operator: 'AND' | 'OR'; conditions: Array<{ type: 'user' | 'group' | 'attribute'; attribute: string; match: MatchOperator; values: string }> };
  targets: Array<{
    integrationId: string;
    resourceType: ResourceType | '';
    permissions: Permission[];
    /** '' = every resource of the type. */
    select: '' | 'include' | 'exclude';
    resources: { by: 'name' | 'id' | 'tag'; key: string; values: string };
  }>;
  automatic: boolean;
  approvers: { mode: 'ANY_OF' | 'ALL_OF'; groups: Array<{ type: 'user' | 'group' | 'OWNER'; values: string }> };
  maxDurationMinutes: string;
  timeframeOn: boolean;
  timeframe: { days: Weekday[]; start: string; end: string; timeZone: string };
  settings: { justificationRequired: boolean; approverReasonRequired: boolean; maxExtensions: string };
}

export const newTarget = (): FlowValues['targets'][number] => ({
  integrationId: '',
  resourceType: 'postgresql-table',
  permissions: ['READ_ONLY'],
  select: '',
  resources: { by: 'name', key: '', values: '' },
});

export function emptyFlow(): FlowValues {
  return {
    name: '',
    active: true,
    requestors: { operator: 'OR', conditions: [{ type: 'group', attribute: '', match: 'is', values: '' }] },
    targets: [newTarget()],
    automatic: false,
    approvers: { mode: 'ANY_OF', groups: [{ type: 'OWNER', values: '' }] },
    maxDurationMinutes: '60',
    timeframeOn: false,
    timeframe: { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:00', timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' },
    settings: { justificationRequired: true, approverReasonRequired: false, maxExtensions: '0' },
  };
}

export function flowValuesOf(flow: AccessFlow): FlowValues {
  const empty = emptyFlow();
  return {
    name: flow.name,
    active: flow.active,
    requestors: {
      operator: flow.requestors.operator,
      conditions: flow.requestors.conditions.map((c) => ({ type: c.type, attribute: c.attribute ?? '', match: c.match, values: c.values.join(', ') })),
    },
    targets: flow.targets.map((t) => ({
      integrationId: t.integrationId,
      resourceType: t.resourceType,
      permissions: [...t.permissions],
      select: t.resources?.mode ?? '',
      resources: { by: t.resources?.by ?? 'name', key: t.resources?.key ?? '', values: t.resources?.values.join(', ') ?? '' },
    })),
    automatic: flow.approvers === null,
    approvers: flow.approvers
      ? { mode: flow.approvers.mode, groups: flow.approvers.groups.map((g) => ({ type: g.type, values: g.values?.join(', ') ?? '' })) }
      : empty.approvers,
    maxDurationMinutes: String(flow.maxDurationMinutes),
    timeframeOn: flow.timeframe !== null,
    timeframe: flow.timeframe ? { ...flow.timeframe, days: [...flow.timeframe.days] } : empty.timeframe,
    settings: {
      justificationRequired: flow.settings.justificationRequired,
      approverReasonRequired: flow.settings.approverReasonRequired,
      maxExtensions: String(flow.settings.maxExtensions),
    },
  };
}

export function toFlowBody(v: FlowValues): Record<string, unknown> {
  return {
    name: v.name,
    active: v.active,
    requestors: {
      operator: v.requestors.operator,
      conditions: v.requestors.conditions.map((c) => ({
        type: c.type,
        ...(c.type === 'attribute' ? { attribute: c.attribute.trim() } : {}),
        match: c.match,
        values: splitList(c.values),
      })),
    },
    targets: v.targets.map((t) => ({
      integrationId: t.integrationId,
      resourceType: t.resourceType,
      permissions: t.permissions,
      ...(t.select
        ? {
            resources: {
              mode: t.select,
              by: t.resources.by,
              ...(t.resources.by === 'tag' ? { key: t.resources.key.trim() } : {}),
              values: splitList(t.resources.values),
            },
          }
        : {}),
    })),
    approvers: v.automatic
      ? null
      : { mode: v.approvers.mode, groups: v.approvers.groups.map((g) => ({ type: g.type, ...(g.type === 'OWNER' ? {} : { values: splitList(g.values) }) })) },
    maxDurationMinutes: numberOrText(v.maxDurationMinutes),
    timeframe: v.timeframeOn ? v.timeframe : null,
    settings: {
      justificationRequired: v.settings.justificationRequired,
      approverReasonRequired: v.settings.approverReasonRequired,
      maxExtensions: numberOrText(v.settings.maxExtensions) ?? 0,
    },
  };
}

export const flowErrors = (v: FlowValues): FieldErrors => schemaErrors(AccessFlowInput, toFlowBody(v));
