import { useCallback, useState } from 'react';
import { useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ResourceType, Tags } from '@latchkey/contracts';
import type { Integration, Resource } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { keys, useIntegrations } from '../api/queries';
import type { Page } from '../api/queries';
import { TextField } from '../components/fields';
import { Dialog, ErrorNote, Loading, PageHeader, Pager, useDebounced, usePages } from '../components/ui';
import { schemaErrors } from '../forms/form-state';
import { useForm } from '../forms/use-form';

const PAGE_SIZE = 50;

/** Who approves requests for a resource: its owner through the integration's tag mappings, else the integration owners. */
export function resolvedOwner(resource: Resource, integration: Integration | undefined): string {
  if (!integration) return '—';
  for (const mapping of integration.resourceOwnerMappings) {
    const value = resource.tags[mapping.tagKey];
    if (value) return `${mapping.attribute} ${value} (tag ${mapping.tagKey})`;
  }
  const owners = integration.integrationOwners.map((o) => `${o.attribute} ${o.values.join(', ')}`).join('; ');
  return owners ? `${owners} (integration owner)` : '—';
}

export function ResourcesPage() {
  const [params, setParams] = useSearchParams();
  const integrationId = params.get('integrationId') ?? '';
  const type = params.get('type') ?? '';
  const tag = params.get('tag') ?? '';
  const [search, setSearch] = useState(params.get('q') ?? '');
  const q = useDebounced(search.trim());
  const [editing, setEditing] = useState<Resource | null>(null);
  const integrations = useIntegrations();
  const filterKey = JSON.stringify([integrationId, type, tag, q]);
  const pages = usePages(filterKey);

  const resources = useQuery({
    queryKey: [...keys.resources, { integrationId, type, tag, q, pageToken: pages.pageToken }],
    queryFn: () => api<Page<Resource>>('GET', '/resources', { query: { integrationId, type, tag, q, pageSize: PAGE_SIZE, pageToken: pages.pageToken } }),
    placeholderData: keepPreviousData,
  });
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const byId = new Map(integrations.data?.map((i) => [i.id, i]));

  return (
    <>
      <PageHeader
        title="Resources"
        description="What discovery found on each integration. Tags come from latchkey:key=value lines in comments and from here."
      />
      <form className="filters" role="search" aria-label="Resources" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-q">Search by path</label>
          <input id="filter-q" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="e.g. billing/invoices" />
        </div>
        <div className="field">
          <label htmlFor="filter-integration">Integration</label>
          <select id="filter-integration" value={integrationId} onChange={(e) => setFilter('integrationId', e.target.value)}>
            <option value="">All integrations</option>
            {integrations.data?.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-type">Type</label>
          <select id="filter-type" value={type} onChange={(e) => setFilter('type', e.target.value)}>
            <option value="">All types</option>
            {ResourceType.options.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-tag">Tag (key or key=value)</label>
          <input id="filter-tag" value={tag} onChange={(e) => setFilter('tag', e.target.value.trim())} />
        </div>
      </form>
      <ErrorNote error={resources.error} />
      {resources.isPending && <Loading what="resources" />}
      {resources.data && (
        <>
          <p role="status" className="muted">
            {resources.data.items.length === 0
              ? 'No resource matches.'
              : `Showing ${resources.data.items.length} resources${resources.data.nextPageToken ? ' (more on the next page)' : ''}.`}
            {resources.isFetching && ' Updating…'}
          </p>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Resources</caption>
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Type</th>
                  <th scope="col">Integration</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Tags</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {resources.data.items.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">
                      <span className="path">{r.path}</span>
                      {r.comment && <div className="muted">{r.comment.split('\n')[0]}</div>}
                    </th>
                    <td>
                      {r.kind.replace('_', ' ')}
                      {r.managed && <div className="muted">managed by Latchkey</div>}
                    </td>
                    <td>{byId.get(r.integrationId)?.name ?? r.integrationId}</td>
                    <td>{resolvedOwner(r, byId.get(r.integrationId))}</td>
                    <td>
                      <ul className="tags" aria-label={`Tags of ${r.path}`}>
                        {Object.entries(r.tags).map(([k, v]) => (
                          <li key={k} className="tag">
                            {k}={v}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <button type="button" className="button button--small" onClick={() => setEditing(r)} aria-label={`Edit tags of ${r.path}`}>
                        Edit tags
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            label="Resources"
            page={pages.page}
            hasNext={Boolean(resources.data.nextPageToken)}
            onPrevious={pages.previous}
            onNext={() => pages.next(resources.data.nextPageToken)}
          />
        </>
      )}
      {editing && <EditTags resource={editing} onClose={() => setEditing(null)} />}
    </>
  );
}

interface TagValues {
  rows: Array<{ key: string; value: string }>;
}

const tagsOf = (rows: TagValues['rows']) => Object.fromEntries(rows.filter((r) => r.key.trim() !== '').map((r) => [r.key.trim(), r.value]));

/** Edits the API tags (they win over comment tags and survive refreshes). */
function EditTags({ resource, onClose }: { resource: Resource; onClose: () => void }) {
  const queryClient = useQueryClient();
  const validate = useCallback((v: TagValues) => {
    const errors = schemaErrors(Tags, tagsOf(v.rows));
    // Issues name the tag key (`owner`); show them on that row's key box.
    const byRow: Record<string, string> = {};
    for (const [field, rule] of Object.entries(errors)) {
      const index = v.rows.findIndex((r) => r.key.trim() === field);
      byRow[index >= 0 ? `rows.${index}.key` : 'rows'] = rule;
    }
    return byRow;
  }, []);
  const form = useForm<TagValues>({ rows: [...Object.entries(resource.apiTags).map(([key, value]) => ({ key, value })), { key: '', value: '' }] }, validate);
  const save = useMutation({
    mutationFn: () => api<Resource>('PUT', `/resources/${resource.id}/tags`, { body: { tags: tagsOf(form.values.rows) } }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.resources });
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError) form.setServerIssues(err.issues.map((i) => ({ field: 'rows', rule: `${i.field}: ${i.rule}` })));
    },
  });
  const commentTags = Object.entries(resource.tags).filter(([k]) => !(k in resource.apiTags));
  return (
    <Dialog open title={`Tags of ${resource.path}`} onClose={onClose}>
      {commentTags.length > 0 && (
        <p className="muted">From the comment: {commentTags.map(([k, v]) => `${k}=${v}`).join(', ')} (a tag set here with the same key wins).</p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!form.reveal(['rows'])) save.mutate();
        }}
        noValidate
      >
        {form.values.rows.map((_, i) => (
          <div className="row" key={i}>
            <TextField form={form} name={`rows.${i}.key`} label={`Tag ${i + 1} key`} />
            <TextField form={form} name={`rows.${i}.value`} label={`Tag ${i + 1} value`} />
          </div>
        ))}
        {form.error('rows', true) && <p className="field__error">{form.error('rows', true)}</p>}
        <button type="button" className="button button--small" onClick={() => form.set('rows', [...form.values.rows, { key: '', value: '' }])}>
          Add a tag
        </button>
        <ErrorNote error={save.error instanceof ApiError && save.error.issues.length > 0 ? null : save.error} title="Not saved" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={save.isPending}>
            Save tags
          </button>
        </div>
      </form>
    </Dialog>
  );
}
