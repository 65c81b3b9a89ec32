import { Link } from 'react-router';
import type { AccessFlow } from '@latchkey/contracts';
import { useFlows, useIntegrations } from '../api/queries';
import { Badge, ErrorNote, Loading, PageHeader } from '../components/ui';

export function approversSummary(flow: Pick<AccessFlow, 'approvers'>): string {
  if (!flow.approvers) return 'automatic';
  const groups = flow.approvers.groups.map((g) => (g.type === 'OWNER' ? 'the resource owner' : `${g.type} ${g.values?.join(', ')}`));
  return `${flow.approvers.mode === 'ANY_OF' ? 'any of' : 'all of'}: ${groups.join('; ')}`;
}

export function durationText(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} day(s)`;
  if (minutes % 60 === 0) return `${minutes / 60} hour(s)`;
  return `${minutes} minutes`;
}

export function AccessFlowsPage() {
  const flows = useFlows();
  const integrations = useIntegrations();
  const names = new Map(integrations.data?.map((i) => [i.id, i.name]));
  return (
    <>
      <PageHeader title="Access flows" description="Who may request which access, who approves, and for how long.">
        <Link className="button button--primary" to="/access-flows/new">
          New access flow
        </Link>
      </PageHeader>
      {flows.isPending && <Loading what="access flows" />}
      <ErrorNote error={flows.error} />
      {flows.data?.length === 0 && <p>No access flow yet: nobody can request access.</p>}
      {flows.data && flows.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Access flows</caption>
            <thead>
              <tr>
                <th scope="col">Flow</th>
                <th scope="col">Requestors</th>
                <th scope="col">Targets</th>
                <th scope="col">Approvers</th>
                <th scope="col">Longest access</th>
              </tr>
            </thead>
            <tbody>
              {flows.data.map((f) => (
                <tr key={f.id}>
                  <th scope="row">
                    <Link to={`/access-flows/${f.id}`}>{f.name}</Link> {!f.active && <Badge tone="idle">inactive</Badge>}
                  </th>
                  <td>
                    {f.requestors.conditions
                      .map((c) => `${c.type === 'attribute' ? c.attribute : c.type} ${c.match.replace('_', ' ')} ${c.values.join(', ')}`)
                      .join(f.requestors.operator === 'AND' ? ' and ' : ' or ')}
                  </td>
                  <td>
                    {f.targets.map((t, i) => (
                      <div key={i}>
                        {t.permissions.join('/')} on {t.resourceType.replace('postgresql-', '')}s of {names.get(t.integrationId) ?? t.integrationId}
                        {t.resources &&
                          ` (${t.resources.mode} by ${t.resources.by}${t.resources.key ? ` ${t.resources.key}` : ''}: ${t.resources.values.join(', ')})`}
                      </div>
                    ))}
                  </td>
                  <td>{approversSummary(f)}</td>
                  <td>{durationText(f.maxDurationMinutes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
