import { useCallback, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { connectorRefusalRule } from '@latchkey/contracts';
import type { Integration, IntegrationTypeDescription, PreflightReport } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { keys, useCatalog, useConnectors, useIntegration, useUsers } from '../api/queries';
import { ChoiceGroup, SelectField, TextAreaField, TextField } from '../components/fields';
import { PreflightReportView } from '../components/preflight-report';
import { CodeBlock, ErrorNote, Loading, PageHeader, StatusBadge, When } from '../components/ui';
import { errorsOutside, isUnder } from '../forms/form-state';
import { useForm } from '../forms/use-form';
import type { Form } from '../forms/use-form';
import { CA_MODES, emptyIntegration, integrationErrors, SSL_MODE_ORDER, SSL_MODE_WORDS, STEPS, toBody, valuesOf } from './integration-form';
import type { IntegrationValues } from './integration-form';

const RESOURCE_LABELS: Record<string, string> = {
  'postgresql-database': 'Databases',
  'postgresql-schema': 'Schemas',
  'postgresql-table': 'Tables, views and sequences',
  'postgresql-role': 'Roles',
};
const MAX_ACCESS_DETAILS = 400;

/** Catalog -> PostgreSQL tile: the Connect Integration wizard. */
export function ConnectIntegrationPage() {
  const { type = '' } = useParams();
  const catalog = useCatalog();
  const description = catalog.data?.find((t) => t.type === type);
  if (catalog.isPending) return <Loading what="the catalog" />;
  if (catalog.error) return <ErrorNote error={catalog.error} />;
  if (!description) return <PageHeader title="Unknown integration type" description={`The catalog has no type "${type}".`} />;
  return <IntegrationWizard description={description} />;
}

/** The same wizard over an existing integration. */
export function EditIntegrationPage() {
  const { id = '' } = useParams();
  const catalog = useCatalog();
  const integration = useIntegration(id);
  if (catalog.isPending || integration.isPending) return <Loading what="the integration" />;
  if (catalog.error || integration.error) return <ErrorNote error={catalog.error ?? integration.error} />;
  const description = catalog.data.find((t) => t.type === integration.data.type);
  if (!description) return <ErrorNote error={new Error(`The catalog has no type "${integration.data.type}".`)} />;
  return <IntegrationWizard description={description} integration={integration.data} />;
}

function IntegrationWizard({ description, integration }: { description: IntegrationTypeDescription; integration?: Integration }) {
  const mode = integration ? 'update' : 'create';
  const queryClient = useQueryClient();
  const connectors = useConnectors(true);
  const users = useUsers();
  const validate = useCallback(
    (v: IntegrationValues) => integrationErrors(v, description.type, mode, connectors.data, description.minimumConnectorVersion),
    [description, mode, connectors.data],
  );
  const form = useForm<IntegrationValues>(() => (integration ? valuesOf(integration) : emptyIntegration(description.configDefaults)), validate);
  const [step, setStep] = useState(0);
  const [reached, setReached] = useState(integration ? STEPS.length - 1 : 0);
  const [savedId, setSavedId] = useState<string | null>(null);

  // The first usable connector is the natural choice; the person may pick another.
  const { set } = form;
  const noConnector = form.values.connectorId === '';
  useEffect(() => {
    if (!noConnector || !connectors.data) return;
    const usable = connectors.data.find((c) => connectorRefusalRule(c, description.minimumConnectorVersion) === null);
    if (usable) set('connectorId', usable.id);
  }, [noConnector, connectors.data, description.minimumConnectorVersion, set]);

  const save = useMutation({
    mutationFn: () => {
      const body = toBody(form.values, description.type);
      return integration ? api<Integration>('PUT', `/integrations/${integration.id}`, { body }) : api<Integration>('POST', '/integrations', { body });
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.integration(saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: keys.integrations, exact: true });
      setSavedId(saved.id);
    },
    onError: (err) => {
      if (err instanceof ApiError && err.issues.length > 0) {
        form.setServerIssues(err.issues);
        const first = STEPS.findIndex((s) => err.issues.some((i) => isUnder(i.field, s.fields)));
        if (first >= 0) setStep(first);
      }
    },
  });

  if (savedId) return <AfterConfirm id={savedId} mode={mode} />;

  const go = (to: number) => {
    setStep(to);
    setReached((r) => Math.max(r, to));
  };
  const next = () => {
    if (form.reveal(STEPS[step].fields)) return;
    go(step + 1);
  };
  const confirm = () => {
    const bad = STEPS.findIndex((s) => form.reveal(s.fields));
    if (bad >= 0 && bad < STEPS.length - 1) return setStep(bad);
    save.mutate();
  };
  const stepFields = STEPS.flatMap((s) => [...s.fields]);
  const unplaced = errorsOutside(form.serverErrors, stepFields);

  const sections: Record<(typeof STEPS)[number]['id'], ReactNode> = {
    discovery: (
      <ChoiceGroup
        form={form}
        name="connectedResourceTypes"
        legend="Resource types to discover"
        hint="Latchkey discovers these in every database of the instance the connector user may connect to."
        multiple
        choices={description.resourceTypes.map((r) => ({
          value: r.type,
          label: RESOURCE_LABELS[r.type] ?? r.type,
          description: `Permissions: ${r.permissions.join(', ')}`,
        }))}
      />
    ),
    connector: (
      <>
        {connectors.isPending && <Loading what="connectors" />}
        <ErrorNote error={connectors.error} />
        {connectors.data && (
          <ChoiceGroup
            form={form}
            name="connectorId"
            legend="Connector"
            hint={`The connector reaches the database from its network. PostgreSQL needs version ${description.minimumConnectorVersion} or later.`}
            choices={connectors.data.map((c) => {
              const refusal = connectorRefusalRule(c, description.minimumConnectorVersion);
              return {
                value: c.id,
                label: `${c.id} (version ${c.version}, ${c.status})`,
                disabled: refusal !== null,
                description: refusal ? (
                  <span className="field__error">Cannot be chosen: {refusal}</span>
                ) : (
                  <span>
                    Last heartbeat <When at={c.lastSeenAt} />; serves {c.services.join(', ') || 'nothing right now'}
                  </span>
                ),
              };
            })}
          />
        )}
        <details className="disclosure">
          <summary>+ Add new connector</summary>
          <p>
            A connector is Latchkey's discovery, provisioning and rotation workers running in the network of your databases, under an id of your choice. Each
            needs the NATS URL and master key of this Latchkey, and announces itself within seconds:
          </p>
          <CodeBlock
            caption="Commands to run a connector"
            code={[
              'export CONNECTOR_ID=office NATS_URL=nats://latchkey.example:4222 LATCHKEY_MASTER_KEY_FILE=/etc/latchkey/master.key',
              'node dist/apps/discovery/src/main.js &',
              'node dist/apps/provisioning/src/main.js &',
              'node dist/apps/rotation/src/main.js &',
            ].join('\n')}
          />
          <p>With Docker, run the same image three times with those variables (see docker-compose.yml).</p>
        </details>
      </>
    ),
    config: (
      <>
        <TextField
          form={form}
          name="name"
          label="Integration Name"
          hint="Unique, user-friendly name used to identify this integration when constructing an access flow."
        />
        <TextField form={form} name="config.hostname" label="Hostname" hint="Hostname of the PostgreSQL instance to connect." />
        <TextField
          form={form}
          name="config.port"
          label="Port"
          type="number"
          hint={`Port value for the instance. By default ${String(description.configDefaults.port ?? 5432)}.`}
        />
        <TextField
          form={form}
          name="config.dbname"
          label="Database Name"
          hint={`Name of the database to integrate. By default ${String(description.configDefaults.dbname ?? 'postgres')}.`}
        />
        <ChoiceGroup
          form={form}
          name="config.sslmode"
          legend="SSL Mode"
          hint="Mode of Secure Sockets Layer (SSL) encryption used to secure the connection with the SQL database server."
          choices={SSL_MODE_ORDER.map((m) => ({ value: m, label: m, description: SSL_MODE_WORDS[m] }))}
        />
        {CA_MODES.includes(form.values.config.sslmode) && (
          <TextAreaField
            form={form}
            name="config.sslRootCert"
            label="CA certificate (PEM, optional)"
            rows={5}
            hint="The certificate authority that signed the server's certificate. Without it, verify-ca and verify-full trust the system's CA store."
          />
        )}
      </>
    ),
    secret: (
      <>
        <ChoiceGroup
          form={form}
          name="secret.store"
          legend="Where the connector user's credentials are kept"
          choices={[
            ...(integration ? [{ value: 'keep', label: `Keep the stored secret (${integration.secret.store})` }] : []),
            {
              value: 'builtin',
              label: 'Latchkey (builtin)',
              description: 'Encrypted with the master key (AES-256-GCM); never shown again. Required for credential rotation.',
            },
            { value: 'env', label: 'Environment variables', description: 'Two variables on the connector host hold the username and the password.' },
            { value: 'file', label: 'File', description: 'A JSON file {"username", "password"} on the connector host, such as a mounted Kubernetes secret.' },
          ]}
        />
        {form.values.secret.store === 'builtin' && (
          <>
            <TextField form={form} name="secret.username" label="Username" autoComplete="off" />
            <TextField form={form} name="secret.password" label="Password" type="password" autoComplete="new-password" />
          </>
        )}
        {form.values.secret.store === 'env' && (
          <>
            <TextField form={form} name="secret.usernameVar" label="Username variable" />
            <TextField form={form} name="secret.passwordVar" label="Password variable" />
          </>
        )}
        {form.values.secret.store === 'file' && <TextField form={form} name="secret.path" label="Path on the connector host" />}
        <details className="disclosure">
          <summary>How to create the connector user</summary>
          <p>As an administrator of the database, create a user for Latchkey with a strong password; the connection test then says what else it needs.</p>
          <CodeBlock
            caption="SQL to create a connector user"
            code={"CREATE ROLE latchkey_connector LOGIN CREATEROLE PASSWORD 'a strong password';\nGRANT pg_signal_backend TO latchkey_connector;"}
          />
        </details>
      </>
    ),
    more: <GetMore form={form} attributes={attributeNames(users.data?.flatMap((u) => Object.keys(u.attributes)) ?? [])} />,
    confirm: (
      <>
        <Summary values={form.values} />
        {unplaced.length > 0 && (
          <div className="alert alert--error" role="alert">
            {unplaced.map(([field, rule]) => (
              <p key={field}>
                {field} {rule}
              </p>
            ))}
          </div>
        )}
        {save.error && !(save.error instanceof ApiError && save.error.issues.length > 0) && <ErrorNote error={save.error} title="Not saved" />}
        <button type="button" className="button button--primary" onClick={confirm} disabled={save.isPending}>
          {save.isPending ? 'Saving and testing the connection…' : 'Confirm'}
        </button>
      </>
    ),
  };

  return (
    <>
      <PageHeader
        title={integration ? `Edit ${integration.name}` : `Connect Integration: ${description.name}`}
        description={integration ? 'Saving tests the connection again.' : description.description}
      />
      <ol className="wizard">
        {STEPS.map((s, i) => (
          <WizardStep
            key={s.id}
            index={i}
            title={s.title}
            state={i === step ? 'open' : i <= reached ? 'done' : 'todo'}
            summary={<StepSummary id={s.id} values={form.values} />}
            onEdit={() => setStep(i)}
            onNext={i < STEPS.length - 1 ? next : undefined}
          >
            {sections[s.id]}
          </WizardStep>
        ))}
      </ol>
    </>
  );
}

function WizardStep({
  index,
  title,
  state,
  summary,
  children,
  onEdit,
  onNext,
}: {
  index: number;
  title: string;
  state: 'open' | 'done' | 'todo';
  summary: ReactNode;
  children: ReactNode;
  onEdit: () => void;
  onNext?: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const wasOpen = useRef(state === 'open');
  useEffect(() => {
    // Moving to a step moves the keyboard focus (and a screen reader) to it.
    if (state === 'open' && !wasOpen.current && index > 0) heading.current?.focus();
    wasOpen.current = state === 'open';
  }, [state, index]);
  const id = `step-${index}`;
  return (
    <li className={`wizard__step wizard__step--${state}`} aria-current={state === 'open' ? 'step' : undefined}>
      <section aria-labelledby={id}>
        <div className="wizard__head">
          <h2 id={id} ref={heading} tabIndex={-1}>
            <span className="wizard__number">{index + 1}</span> {title}
          </h2>
          {state === 'done' && (
            <button type="button" className="button button--small button--quiet" onClick={onEdit} aria-label={`Edit ${title}`}>
              Edit
            </button>
          )}
        </div>
        {state === 'done' && <div className="wizard__summary">{summary}</div>}
        {state === 'open' && (
          <div className="wizard__body">
            {children}
            {onNext && (
              <button type="button" className="button button--primary" onClick={onNext}>
                Next
              </button>
            )}
          </div>
        )}
      </section>
    </li>
  );
}

function attributeNames(keys: string[]): string[] {
  return [...new Set(keys)].sort();
}

/** Credential rotation, custom access details (with Preview), integration and resource owners. */
function GetMore({ form, attributes }: { form: Form<IntegrationValues>; attributes: string[] }) {
  const [preview, setPreview] = useState(false);
  const attributeOptions = [
    { value: 'user', label: 'User (emails)' },
    { value: 'group', label: 'Group (group names)' },
    ...attributes.filter((a) => a !== 'user' && a !== 'group').map((a) => ({ value: a, label: `Attribute ${a}` })),
  ];
  const owners = form.values.integrationOwners;
  const mappings = form.values.resourceOwnerMappings;
  const ownersError = form.error('integrationOwners', true);
  return (
    <>
      <TextField
        form={form}
        name="credentialRotationDays"
        label="Credential Rotation (days, optional)"
        type="number"
        hint="Number of days after which the connector user's password is rotated. Only for a builtin secret."
      />
      <TextAreaField
        form={form}
        name="customAccessDetails"
        label="Custom Access Details (optional)"
        maxLength={MAX_ACCESS_DETAILS}
        counter
        hint="Instructions explaining how to access this integration's resources, shown to end users with their credentials."
      />
      <button type="button" className="button button--small" aria-expanded={preview} onClick={() => setPreview((p) => !p)}>
        {preview ? 'Hide preview' : 'Preview'}
      </button>
      {preview && (
        <div className="preview" role="region" aria-label="Preview of the custom access details">
          <p className="preview__label">As end users see it with their credentials:</p>
          <div className="preview__card">
            <h3>How to connect</h3>
            {form.values.customAccessDetails ? (
              <p className="preview__text">{form.values.customAccessDetails}</p>
            ) : (
              <p className="muted">(no custom access details)</p>
            )}
          </div>
        </div>
      )}

      <fieldset className="group" aria-describedby={ownersError ? 'owners-error' : undefined}>
        <legend>Integration Owner (optional)</legend>
        <p className="field__hint">Fallback approver when no resource owner is found.</p>
        {owners.map((_, i) => (
          <div className="row" key={i}>
            <SelectField form={form} name={`integrationOwners.${i}.attribute`} label={`Owner ${i + 1} attribute`} options={attributeOptions} />
            <TextField form={form} name={`integrationOwners.${i}.values`} label={`Owner ${i + 1} values`} hint="Comma-separated." />
            <button
              type="button"
              className="button button--small button--quiet"
              onClick={() =>
                form.set(
                  'integrationOwners',
                  owners.filter((__, j) => j !== i),
                )
              }
            >
              Remove owner {i + 1}
            </button>
          </div>
        ))}
        {ownersError && (
          <p className="field__error" id="owners-error">
            {ownersError}
          </p>
        )}
        <button type="button" className="button button--small" onClick={() => form.set('integrationOwners', [...owners, { attribute: 'group', values: '' }])}>
          Add integration owner
        </button>
      </fieldset>

      <fieldset className="group">
        <legend>Resource Owner (optional)</legend>
        <p className="field__hint">
          A tag key on the resources (for instance <code>owner</code> from a <code>latchkey:owner=payments</code> comment) whose value names the approvers
          through this attribute. Resource owners need an integration owner as the fallback.
        </p>
        {mappings.map((_, i) => (
          <div className="row" key={i}>
            <TextField form={form} name={`resourceOwnerMappings.${i}.tagKey`} label={`Resource owner ${i + 1} tag key`} />
            <SelectField form={form} name={`resourceOwnerMappings.${i}.attribute`} label={`Resource owner ${i + 1} attribute`} options={attributeOptions} />
            <button
              type="button"
              className="button button--small button--quiet"
              onClick={() =>
                form.set(
                  'resourceOwnerMappings',
                  mappings.filter((__, j) => j !== i),
                )
              }
            >
              Remove resource owner {i + 1}
            </button>
          </div>
        ))}
        <button
          type="button"
          className="button button--small"
          onClick={() => form.set('resourceOwnerMappings', [...mappings, { tagKey: 'owner', attribute: 'group' }])}
        >
          Add resource owner
        </button>
      </fieldset>
    </>
  );
}

function StepSummary({ id, values }: { id: (typeof STEPS)[number]['id']; values: IntegrationValues }) {
  switch (id) {
    case 'discovery':
      return <p>{values.connectedResourceTypes.map((t) => RESOURCE_LABELS[t] ?? t).join(', ') || 'nothing'}</p>;
    case 'connector':
      return <p>Connector {values.connectorId || '(none)'}</p>;
    case 'config':
      return (
        <p>
          {values.name || '(no name)'}: {values.config.hostname}:{values.config.port}/{values.config.dbname}, SSL mode {values.config.sslmode}
        </p>
      );
    case 'secret':
      return <p>{secretSummary(values)}</p>;
    case 'more':
      return (
        <p>
          Rotation {values.credentialRotationDays ? `every ${values.credentialRotationDays} days` : 'off'}; {values.customAccessDetails.length} characters of
          access details; {values.integrationOwners.length} integration owner(s), {values.resourceOwnerMappings.length} resource owner(s)
        </p>
      );
    default:
      return null;
  }
}

function secretSummary(values: IntegrationValues): string {
  const s = values.secret;
  if (s.store === 'keep') return 'Keep the stored secret';
  if (s.store === 'builtin') return `Builtin: user ${s.username || '(none)'}, password ${s.password ? 'set (hidden)' : 'missing'}`;
  if (s.store === 'env') return `Environment variables ${s.usernameVar} / ${s.passwordVar}`;
  return `File ${s.path}`;
}

function Summary({ values }: { values: IntegrationValues }) {
  return (
    <dl className="facts">
      <dt>Discovery</dt>
      <dd>{values.connectedResourceTypes.map((t) => RESOURCE_LABELS[t] ?? t).join(', ')}</dd>
      <dt>Connector</dt>
      <dd>{values.connectorId}</dd>
      <dt>Integration Name</dt>
      <dd>{values.name}</dd>
      <dt>Instance</dt>
      <dd>
        {values.config.hostname}:{values.config.port}, database {values.config.dbname}, SSL mode {values.config.sslmode}
        {values.config.sslRootCert ? ', with a CA certificate' : ''}
      </dd>
      <dt>Secret</dt>
      <dd>{secretSummary(values)}</dd>
      <dt>Credential rotation</dt>
      <dd>{values.credentialRotationDays ? `every ${values.credentialRotationDays} days` : 'off'}</dd>
      <dt>Owners</dt>
      <dd>
        {values.integrationOwners.map((o) => `${o.attribute}: ${o.values}`).join('; ') || 'none'}
        {values.resourceOwnerMappings.length > 0 &&
          ` (resource owners by tag ${values.resourceOwnerMappings.map((m) => `${m.tagKey} -> ${m.attribute}`).join(', ')})`}
      </dd>
    </dl>
  );
}

/** After Confirm: the integration's live status and its preflight report, with Test again. */
function AfterConfirm({ id, mode }: { id: string; mode: 'create' | 'update' }) {
  const queryClient = useQueryClient();
  const integration = useIntegration(id);
  const test = useMutation({
    mutationFn: () => api<{ integration: Integration; report: PreflightReport }>('POST', `/integrations/${id}/test`),
    onSuccess: ({ integration: tested }) => {
      queryClient.setQueryData(keys.integration(id), tested);
      void queryClient.invalidateQueries({ queryKey: keys.integrations, exact: true });
    },
  });
  const data = integration.data;
  if (!data) return <Loading what="the integration" />;
  return (
    <>
      <PageHeader title={mode === 'create' ? `${data.name} is connected` : `${data.name} is saved`}>
        <Link className="button" to={`/integrations/${id}`}>
          Open the integration
        </Link>
      </PageHeader>
      <p className="status-line" role="status">
        Status <StatusBadge status={data.status} /> {data.statusReason && <span className="muted">{data.statusReason}</span>}
      </p>
      <PreflightReportView report={data.lastTest} testing={test.isPending} onTestAgain={() => test.mutate()} />
      <ErrorNote error={test.error} title="The test did not run" />
      {data.status === 'ACTIVE' && (
        <p>
          <Link to={`/resources?integrationId=${id}`}>See the discovered resources</Link> or <Link to="/access-flows/new">create an access flow</Link>.
        </p>
      )}
    </>
  );
}
