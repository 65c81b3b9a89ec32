import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { MatchOperator, Weekday } from '@latchkey/contracts';
import type { AccessFlow, FlowDryRun, Resource } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { keys, useCatalog, useGroups, useIntegrations } from '../api/queries';
import type { Page } from '../api/queries';
import { CheckboxField, ChoiceGroup, SelectField, TextField } from '../components/fields';
import { Badge, Dialog, ErrorNote, Loading, PageHeader, useDebounced } from '../components/ui';
import { errorsOutside, splitList } from '../forms/form-state';
import { useForm } from '../forms/use-form';
import type { Form } from '../forms/use-form';
import { emptyFlow, flowErrors, flowValuesOf, newTarget, toFlowBody } from './access-flow-form';
import type { FlowValues } from './access-flow-form';

export function NewAccessFlowPage() {
  return <FlowEditor />;
}

export function EditAccessFlowPage() {
  const { id = '' } = useParams();
  const flow = useQuery({ queryKey: keys.flow(id), queryFn: () => api<AccessFlow>('GET', `/access-flows/${encodeURIComponent(id)}`) });
  if (flow.isPending) return <Loading what="the access flow" />;
  if (flow.error) return <ErrorNote error={flow.error} />;
  return <FlowEditor flow={flow.data} />;
}

const SECTIONS = ['name', 'active', 'requestors', 'targets', 'approvers', 'maxDurationMinutes', 'timeframe', 'settings'];

function FlowEditor({ flow }: { flow?: AccessFlow }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm<FlowValues>(() => (flow ? flowValuesOf(flow) : emptyFlow()), flowErrors);
  const [deleting, setDeleting] = useState(false);
  const save = useMutation({
    mutationFn: () => {
      const body = toFlowBody(form.values);
      return flow ? api<AccessFlow>('PUT', `/access-flows/${flow.id}`, { body }) : api<AccessFlow>('POST', '/access-flows', { body });
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.flow(saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.flows, exact: true });
      navigate('/access-flows');
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  const remove = useMutation({
    mutationFn: () => api('DELETE', `/access-flows/${flow!.id}`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.flows });
      navigate('/access-flows');
    },
  });
  const unplaced = errorsOutside(form.serverErrors, SECTIONS);

  return (
    <>
      <PageHeader title={flow ? `Access flow: ${flow.name}` : 'New access flow'}>
        {flow && (
          <button type="button" className="button button--danger" onClick={() => setDeleting(true)}>
            Delete
          </button>
        )}
      </PageHeader>
      <form
        className="editor"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!form.reveal(SECTIONS)) save.mutate();
        }}
      >
        <section className="panel" aria-labelledby="flow-basics">
          <h2 id="flow-basics">Flow</h2>
          <TextField form={form} name="name" label="Flow name" />
          <CheckboxField form={form} name="active" label="Active (people may request through it)" />
        </section>
        <Requestors form={form} />
        <Targets form={form} />
        <Approvers form={form} />
        <section className="panel" aria-labelledby="flow-time">
          <h2 id="flow-time">Duration and timeframe</h2>
          <TextField
            form={form}
            name="maxDurationMinutes"
            label="Longest access (minutes)"
            type="number"
            hint="Requests may ask for any duration up to this."
          />
          <CheckboxField form={form} name="timeframeOn" label="Only allow requests at certain times" />
          {form.values.timeframeOn && (
            <>
              <ChoiceGroup form={form} name="timeframe.days" legend="Days" multiple choices={Weekday.options.map((d) => ({ value: d, label: d }))} />
              <div className="row">
                <TextField form={form} name="timeframe.start" label="From (HH:MM)" />
                <TextField form={form} name="timeframe.end" label="Until (HH:MM)" hint="Before the start: the window spans midnight." />
                <TextField form={form} name="timeframe.timeZone" label="Time zone" hint="IANA name, e.g. Europe/Paris or UTC." />
              </div>
            </>
          )}
        </section>
        <section className="panel" aria-labelledby="flow-settings">
          <h2 id="flow-settings">Settings</h2>
          <CheckboxField form={form} name="settings.justificationRequired" label="Requesters must give a justification" />
          <CheckboxField form={form} name="settings.approverReasonRequired" label="Approvers must give a reason" />
          <TextField form={form} name="settings.maxExtensions" label="Extensions allowed per request" type="number" />
          <p className="muted">A requester can never approve their own request.</p>
        </section>
        <DryRunPanel form={form} />
        {unplaced.length > 0 && (
          <div className="alert alert--error" role="alert">
            {unplaced.map(([field, rule]) => (
              <p key={field}>
                {field} {rule}
              </p>
            ))}
          </div>
        )}
        <ErrorNote error={save.error instanceof ApiError && save.error.issues.length > 0 ? null : save.error} title="Not saved" />
        <button type="submit" className="button button--primary" disabled={save.isPending}>
          {flow ? 'Save access flow' : 'Create access flow'}
        </button>
      </form>
      {flow && (
        <Dialog open={deleting} title={`Delete ${flow.name}?`} onClose={() => setDeleting(false)}>
          <p>Nobody can request through it any more. Access already granted runs until it ends.</p>
          <ErrorNote error={remove.error} title="Not deleted" />
          <div className="dialog__actions">
            <button type="button" className="button" onClick={() => setDeleting(false)}>
              Cancel
            </button>
            <button type="button" className="button button--danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
              Delete access flow
            </button>
          </div>
        </Dialog>
      )}
    </>
  );
}

/**
 * "Who could request what, and who would approve", for the flow as it stands in the form (not
 * saved): the server evaluates it against the people directory and the inventory now. A flow that
 * could never match gets the API's reasons on its fields, as a save would.
 */
function DryRunPanel({ form }: { form: Form<FlowValues> }) {
  const [ranFor, setRanFor] = useState<string | null>(null);
  const current = JSON.stringify(toFlowBody(form.values));
  const dryRun = useMutation({
    mutationFn: (body: string) => api<FlowDryRun>('POST', '/access-flows/dry-run', { body: JSON.parse(body) }),
    onMutate: (body) => {
      form.setServerIssues([]);
      setRanFor(body);
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  const result = dryRun.data;
  return (
    <section className="panel" aria-labelledby="flow-dry-run">
      <h2 id="flow-dry-run">Dry run: who could request what, and who would approve</h2>
      <p className="muted">Evaluates the flow as it is in this form against today's people and inventory. Nothing is saved.</p>
      <button
        type="button"
        className="button"
        disabled={dryRun.isPending}
        onClick={() => {
          if (!form.reveal(SECTIONS)) dryRun.mutate(current);
        }}
      >
        Run dry run
      </button>
      {dryRun.isPending && <Loading what="the dry run" />}
      {dryRun.error instanceof ApiError && dryRun.error.issues.length > 0 && (
        <p className="alert alert--error" role="alert">
          The flow could never be used:{' '}
          {dryRun.error.issues.length === 1 ? 'see the field marked above.' : `see the ${dryRun.error.issues.length} fields marked above.`}
        </p>
      )}
      <ErrorNote error={dryRun.error instanceof ApiError && dryRun.error.issues.length > 0 ? null : dryRun.error} title="Dry run failed" />
      {result && !dryRun.isPending && !dryRun.error && (
        <div aria-label="Dry run result" role="region">
          {ranFor !== current && (
            <p className="alert alert--warn" role="status">
              The flow has changed since this dry run: run it again to see the effect.
            </p>
          )}
          {result.warnings.length > 0 && (
            <ul className="alert alert--warn" aria-label="Dry run warnings">
              {result.warnings.map((w, i) => (
                <li key={i}>{w.message}</li>
              ))}
            </ul>
          )}
          <h3 id="dry-run-people">
            {result.requestors.total === 0
              ? 'Nobody could request through this flow'
              : `${result.requestors.total} ${result.requestors.total === 1 ? 'person' : 'people'} could request`}
          </h3>
          {result.requestors.people.length > 0 && (
            <ul aria-labelledby="dry-run-people" className="plain">
              {result.requestors.people.map((p) => (
                <li key={p.id}>
                  {p.name} <span className="muted">{p.email}</span>
                </li>
              ))}
              {result.requestors.total > result.requestors.people.length && (
                <li className="muted">and {result.requestors.total - result.requestors.people.length} more</li>
              )}
            </ul>
          )}
          <h3 id="dry-run-resources">
            {result.resources.items.length === 0 ? 'No discovered resource matches the targets' : 'What they could request, and who would approve'}
          </h3>
          {result.resources.items.length > 0 && (
            <div className="table-wrap">
              <table aria-labelledby="dry-run-resources">
                <thead>
                  <tr>
                    <th scope="col">Resource</th>
                    <th scope="col">Permissions</th>
                    <th scope="col">Would approve</th>
                  </tr>
                </thead>
                <tbody>
                  {result.resources.items.map((item) => (
                    <tr key={item.resource.id}>
                      <th scope="row">
                        <span className="path">{item.resource.path}</span>
                      </th>
                      <td>{item.permissions.join(', ')}</td>
                      <td>
                        {!result.approvalRequired ? (
                          <Badge tone="ok">automatic, no approval</Badge>
                        ) : (
                          <ul className="plain">
                            {item.approvers.map((g, i) => (
                              <li key={i}>
                                {g.type === 'OWNER' ? `Owner (${g.source || 'nobody'})` : `${g.type} ${g.values.join(', ')}`}:{' '}
                                {g.approverEmails.length > 0 ? g.approverEmails.join(', ') : <Badge tone="bad">nobody</Badge>}
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {result.resources.more && <p className="muted">Only the first {result.resources.items.length} resources by path are shown; the flow covers more.</p>}
          {result.approvalRequired && (
            <p className="muted">A requester never approves their own request: if they are the only approver named, an admin must settle it.</p>
          )}
        </div>
      )}
    </section>
  );
}

function Requestors({ form }: { form: Form<FlowValues> }) {
  const conditions = form.values.requestors.conditions;
  return (
    <section className="panel" aria-labelledby="flow-requestors">
      <h2 id="flow-requestors">Requestors</h2>
      <SelectField
        form={form}
        name="requestors.operator"
        label="A person may request when"
        options={[
          { value: 'OR', label: 'any condition holds (OR)' },
          { value: 'AND', label: 'every condition holds (AND)' },
        ]}
      />
      {conditions.map((c, i) => (
        <div className="row" key={i}>
          <SelectField
            form={form}
            name={`requestors.conditions.${i}.type`}
            label={`Condition ${i + 1} on`}
            options={[
              { value: 'user', label: 'Email' },
              { value: 'group', label: 'Group' },
              { value: 'attribute', label: 'Attribute' },
            ]}
          />
          {c.type === 'attribute' && <TextField form={form} name={`requestors.conditions.${i}.attribute`} label={`Condition ${i + 1} attribute`} />}
          <SelectField
            form={form}
            name={`requestors.conditions.${i}.match`}
            label={`Condition ${i + 1} match`}
            options={MatchOperator.options.map((m) => ({ value: m, label: m.replace('_', ' ') }))}
          />
          <TextField form={form} name={`requestors.conditions.${i}.values`} label={`Condition ${i + 1} values`} hint="Comma-separated." />
          {conditions.length > 1 && (
            <button
              type="button"
              className="button button--small button--quiet"
              onClick={() =>
                form.set(
                  'requestors.conditions',
                  conditions.filter((_, j) => j !== i),
                )
              }
            >
              Remove condition {i + 1}
            </button>
          )}
        </div>
      ))}
      {form.error('requestors.conditions', true) && <p className="field__error">{form.error('requestors.conditions', true)}</p>}
      <button
        type="button"
        className="button button--small"
        onClick={() => form.set('requestors.conditions', [...conditions, { type: 'group', attribute: '', match: 'is', values: '' }])}
      >
        Add condition
      </button>
    </section>
  );
}

function Targets({ form }: { form: Form<FlowValues> }) {
  const integrations = useIntegrations();
  const catalog = useCatalog();
  const targets = form.values.targets;
  return (
    <section className="panel" aria-labelledby="flow-targets">
      <h2 id="flow-targets">Targets</h2>
      {targets.map((t, i) => {
        const integration = integrations.data?.find((x) => x.id === t.integrationId);
        const type = catalog.data?.find((x) => x.type === (integration?.type ?? 'postgresql'));
        const resourceTypes = integration?.connectedResourceTypes ?? type?.resourceTypes.map((r) => r.type) ?? [];
        const permissions = type?.resourceTypes.find((r) => r.type === t.resourceType)?.permissions ?? [];
        return (
          <fieldset className="group" key={i}>
            <legend>Target {i + 1}</legend>
            <div className="row">
              <SelectField
                form={form}
                name={`targets.${i}.integrationId`}
                label={`Target ${i + 1} integration`}
                options={[{ value: '', label: 'Choose an integration' }, ...(integrations.data ?? []).map((x) => ({ value: x.id, label: x.name }))]}
              />
              <SelectField
                form={form}
                name={`targets.${i}.resourceType`}
                label={`Target ${i + 1} resource type`}
                options={resourceTypes.map((r) => ({ value: r, label: r }))}
              />
            </div>
            <ChoiceGroup
              form={form}
              name={`targets.${i}.permissions`}
              legend={`Target ${i + 1} permissions`}
              multiple
              choices={permissions.map((p) => ({ value: p, label: p }))}
            />
            <SelectField
              form={form}
              name={`targets.${i}.select`}
              label={`Target ${i + 1} resources`}
              options={[
                { value: '', label: 'Every resource of this type' },
                { value: 'include', label: 'Only these resources (include)' },
                { value: 'exclude', label: 'All but these resources (exclude)' },
              ]}
            />
            {t.select && (
              <>
                <div className="row">
                  <SelectField
                    form={form}
                    name={`targets.${i}.resources.by`}
                    label={`Target ${i + 1} select by`}
                    options={[
                      { value: 'name', label: 'Path (globs: * and ?)' },
                      { value: 'id', label: 'Resource id' },
                      { value: 'tag', label: 'Tag value' },
                    ]}
                  />
                  {t.resources.by === 'tag' && <TextField form={form} name={`targets.${i}.resources.key`} label={`Target ${i + 1} tag key`} />}
                  <TextField form={form} name={`targets.${i}.resources.values`} label={`Target ${i + 1} values`} hint="Comma-separated." />
                </div>
                {t.integrationId && t.resources.by !== 'tag' && (
                  <ResourcePicker
                    label={`Target ${i + 1}`}
                    integrationId={t.integrationId}
                    type={t.resourceType}
                    onPick={(r) => {
                      const value = t.resources.by === 'id' ? r.id : r.path;
                      const current = splitList(t.resources.values);
                      if (!current.includes(value)) form.set(`targets.${i}.resources.values`, [...current, value].join(', '));
                    }}
                  />
                )}
              </>
            )}
            {targets.length > 1 && (
              <button
                type="button"
                className="button button--small button--quiet"
                onClick={() =>
                  form.set(
                    'targets',
                    targets.filter((_, j) => j !== i),
                  )
                }
              >
                Remove target {i + 1}
              </button>
            )}
          </fieldset>
        );
      })}
      {form.error('targets', true) && <p className="field__error">{form.error('targets', true)}</p>}
      <button type="button" className="button button--small" onClick={() => form.set('targets', [...targets, newTarget()])}>
        Add target
      </button>
    </section>
  );
}

/** Finds discovered resources of the target by path and adds them to its selection. */
function ResourcePicker({ label, integrationId, type, onPick }: { label: string; integrationId: string; type: string; onPick: (r: Resource) => void }) {
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const found = useQuery({
    queryKey: [...keys.resources, { integrationId, type, q, pageSize: 10 }],
    queryFn: () => api<Page<Resource>>('GET', '/resources', { query: { integrationId, type, q, pageSize: 10 } }),
    enabled: q.length > 0,
  });
  const id = `picker-${label.replace(/\W+/g, '-')}`;
  return (
    <div className="picker">
      <label htmlFor={id}>{label}: find resources</label>
      <input id={id} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      {found.data && (
        <ul aria-label={`${label} resources found`}>
          {found.data.items.map((r) => (
            <li key={r.id}>
              <span className="path">{r.path}</span>{' '}
              <button type="button" className="button button--small" onClick={() => onPick(r)} aria-label={`Add ${r.path}`}>
                Add
              </button>
            </li>
          ))}
          {found.data.items.length === 0 && <li className="muted">Nothing found.</li>}
        </ul>
      )}
    </div>
  );
}

function Approvers({ form }: { form: Form<FlowValues> }) {
  const groups = useGroups();
  const approverGroups = form.values.approvers.groups;
  return (
    <section className="panel" aria-labelledby="flow-approvers">
      <h2 id="flow-approvers">Approvers</h2>
      <CheckboxField form={form} name="automatic" label="Approve automatically (no approver)" />
      {!form.values.automatic && (
        <>
          <SelectField
            form={form}
            name="approvers.mode"
            label="Approval needs"
            options={[
              { value: 'ANY_OF', label: 'one approval from any group (ANY_OF)' },
              { value: 'ALL_OF', label: 'an approval from each group (ALL_OF)' },
            ]}
          />
          {approverGroups.map((g, i) => (
            <div className="row" key={i}>
              <SelectField
                form={form}
                name={`approvers.groups.${i}.type`}
                label={`Approver ${i + 1}`}
                options={[
                  { value: 'OWNER', label: 'Resource owner' },
                  { value: 'user', label: 'People (emails)' },
                  { value: 'group', label: 'Groups' },
                ]}
              />
              {g.type !== 'OWNER' && (
                <TextField
                  form={form}
                  name={`approvers.groups.${i}.values`}
                  label={`Approver ${i + 1} ${g.type === 'user' ? 'emails' : 'groups'}`}
                  hint={
                    g.type === 'group' && groups.data
                      ? `Comma-separated. Groups: ${groups.data.map((x) => x.name).join(', ') || 'none yet'}`
                      : 'Comma-separated.'
                  }
                />
              )}
              {approverGroups.length > 1 && (
                <button
                  type="button"
                  className="button button--small button--quiet"
                  onClick={() =>
                    form.set(
                      'approvers.groups',
                      approverGroups.filter((_, j) => j !== i),
                    )
                  }
                >
                  Remove approver {i + 1}
                </button>
              )}
            </div>
          ))}
          {form.error('approvers.groups', true) && <p className="field__error">{form.error('approvers.groups', true)}</p>}
          {form.error('approvers', true) && <p className="field__error">{form.error('approvers', true)}</p>}
          <button
            type="button"
            className="button button--small"
            onClick={() => form.set('approvers.groups', [...approverGroups, { type: 'group', values: '' }])}
          >
            Add approver
          </button>
        </>
      )}
    </section>
  );
}
