import { useCallback, useState } from 'react';
import { NavLink } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { GroupInput, TokenInput, UserInput } from '@latchkey/contracts';
import type { Token, User } from '@latchkey/contracts';
import { api, ApiError } from '../api/client';
import { allPages, keys, useGroups, useUsers } from '../api/queries';
import { SelectField, TextField } from '../components/fields';
import { Badge, Dialog, ErrorNote, Loading, PageHeader, SecretOnce, When } from '../components/ui';
import { numberOrText, schemaErrors, splitList } from '../forms/form-state';
import { useForm } from '../forms/use-form';

export function PeopleTabs() {
  return (
    <nav className="tabs" aria-label="People">
      <NavLink to="/people/users" className="tabs__tab">
        Users
      </NavLink>
      <NavLink to="/people/groups" className="tabs__tab">
        Groups
      </NavLink>
      <NavLink to="/people/tokens" className="tabs__tab">
        API tokens
      </NavLink>
      <NavLink to="/people/sso" className="tabs__tab">
        Single sign-on
      </NavLink>
    </nav>
  );
}

interface UserValues {
  email: string;
  name: string;
  role: 'admin' | 'user';
  groups: string;
  attributes: string;
}

/** `team=payments, manager=ana@example.com` -> {team: 'payments', manager: 'ana@example.com'} */
export function parseAttributes(text: string): Record<string, string> {
  return Object.fromEntries(
    splitList(text).map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
}

const userBody = (v: UserValues) => ({ email: v.email, name: v.name, role: v.role, groups: splitList(v.groups), attributes: parseAttributes(v.attributes) });

type OneTimeLink = { email: string; purpose: 'invite' | 'reset'; url: string; expiresAt: string };

export function UsersPage() {
  const users = useUsers();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [link, setLink] = useState<OneTimeLink | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const [deactivating, setDeactivating] = useState<User | null>(null);
  const makeLink = useMutation({
    mutationFn: ({ user, purpose }: { user: User; purpose: 'invite' | 'reset' }) =>
      api<{ url: string; expiresAt: string }>('POST', `/users/${user.id}/${purpose === 'invite' ? 'invite' : 'reset-password'}`).then((answer) => ({
        ...answer,
        email: user.email,
        purpose,
      })),
    onSuccess: setLink,
  });
  const remove = useMutation({
    mutationFn: (user: User) => api('DELETE', `/users/${user.id}`),
    onSuccess: () => {
      setDeleting(null);
      void queryClient.invalidateQueries({ queryKey: keys.users });
      void queryClient.invalidateQueries({ queryKey: keys.groups });
    },
  });

  const setActive = useMutation({
    mutationFn: ({ user, active }: { user: User; active: boolean }) => api<User>('POST', `/users/${user.id}/${active ? 'reactivate' : 'deactivate'}`),
    onSuccess: () => {
      setDeactivating(null);
      void queryClient.invalidateQueries({ queryKey: keys.users });
    },
  });

  return (
    <>
      <PageHeader title="People">
        <button type="button" className="button button--primary" onClick={() => setEditing('new')}>
          Add a user
        </button>
      </PageHeader>
      <PeopleTabs />
      {link && (
        <div className="panel">
          <SecretOnce
            label="One-time link"
            value={link.url}
            note={
              <>
                {link.purpose === 'invite' ? 'Invitation' : 'Password reset'} for {link.email}, valid until <When at={link.expiresAt} /> and for one use. Send
                it to them yourself: it is shown only now.
              </>
            }
          />
          <button type="button" className="button button--small" onClick={() => setLink(null)}>
            Done, hide the link
          </button>
        </div>
      )}
      <ErrorNote error={makeLink.error ?? remove.error ?? setActive.error} title="That did not work" />
      {users.isPending && <Loading what="users" />}
      <ErrorNote error={users.error} />
      {users.data && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Groups</th>
                <th scope="col">Attributes</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.id}>
                  <th scope="row">
                    {u.name}
                    <div className="muted">{u.email}</div>
                  </th>
                  <td>
                    {u.role} {!u.active && <Badge tone="bad">deactivated</Badge>}
                  </td>
                  <td>{u.groups.join(', ') || '—'}</td>
                  <td>
                    {Object.entries(u.attributes)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(', ') || '—'}
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      className="button button--small"
                      aria-label={`Invite ${u.email}`}
                      onClick={() => makeLink.mutate({ user: u, purpose: 'invite' })}
                    >
                      Invite
                    </button>
                    <button
                      type="button"
                      className="button button--small"
                      aria-label={`Reset the password of ${u.email}`}
                      onClick={() => makeLink.mutate({ user: u, purpose: 'reset' })}
                    >
                      Reset password
                    </button>
                    <button type="button" className="button button--small" aria-label={`Edit ${u.email}`} onClick={() => setEditing(u)}>
                      Edit
                    </button>
                    {u.active ? (
                      <button type="button" className="button button--small" aria-label={`Deactivate ${u.email}`} onClick={() => setDeactivating(u)}>
                        Deactivate
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="button button--small"
                        aria-label={`Reactivate ${u.email}`}
                        disabled={setActive.isPending}
                        onClick={() => setActive.mutate({ user: u, active: true })}
                      >
                        Reactivate
                      </button>
                    )}
                    <button type="button" className="button button--small button--danger" aria-label={`Delete ${u.email}`} onClick={() => setDeleting(u)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && <UserEditor user={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      <Dialog open={deactivating !== null} title={`Deactivate ${deactivating?.email ?? ''}?`} onClose={() => setDeactivating(null)}>
        <p>
          They cannot sign in any more, their sessions end now and their API tokens are revoked (reactivating gives no token back). They approve nothing
          meanwhile. Their requests and audit entries stay.
        </p>
        <ErrorNote error={setActive.error} title="Not deactivated" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setDeactivating(null)}>
            Cancel
          </button>
          <button
            type="button"
            className="button button--danger"
            disabled={setActive.isPending}
            onClick={() => deactivating && setActive.mutate({ user: deactivating, active: false })}
          >
            Deactivate user
          </button>
        </div>
      </Dialog>
      <Dialog open={deleting !== null} title={`Delete ${deleting?.email ?? ''}?`} onClose={() => setDeleting(null)}>
        <p>Their API tokens are revoked and their sessions end. Their requests and audit entries stay.</p>
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => setDeleting(null)}>
            Cancel
          </button>
          <button type="button" className="button button--danger" disabled={remove.isPending} onClick={() => deleting && remove.mutate(deleting)}>
            Delete user
          </button>
        </div>
      </Dialog>
    </>
  );
}

function UserEditor({ user, onClose }: { user: User | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const validate = useCallback((v: UserValues) => schemaErrors(UserInput, userBody(v)), []);
  const form = useForm<UserValues>(
    {
      email: user?.email ?? '',
      name: user?.name ?? '',
      role: user?.role ?? 'user',
      groups: user?.groups.join(', ') ?? '',
      attributes: Object.entries(user?.attributes ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    },
    validate,
  );
  const save = useMutation({
    mutationFn: () =>
      user ? api<User>('PUT', `/users/${user.id}`, { body: userBody(form.values) }) : api<User>('POST', '/users', { body: userBody(form.values) }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.users });
      void queryClient.invalidateQueries({ queryKey: keys.groups });
      onClose();
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  return (
    <Dialog open title={user ? `Edit ${user.email}` : 'Add a user'} onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!form.reveal(['email', 'name', 'role', 'groups', 'attributes'])) save.mutate();
        }}
      >
        <TextField form={form} name="email" label="Email" type="email" />
        <TextField form={form} name="name" label="Name" />
        <SelectField
          form={form}
          name="role"
          label="Role"
          options={[
            { value: 'user', label: 'User: requests access' },
            { value: 'admin', label: 'Admin: manages Latchkey' },
          ]}
        />
        <TextField form={form} name="groups" label="Groups" hint="Comma-separated group names; missing groups are created." />
        <TextField form={form} name="attributes" label="Attributes" hint="Comma-separated key=value pairs, e.g. team=payments." />
        <ErrorNote error={save.error instanceof ApiError && save.error.issues.length > 0 ? null : save.error} title="Not saved" />
        <div className="dialog__actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" disabled={save.isPending}>
            {user ? 'Save user' : 'Add user'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function GroupsPage() {
  const groups = useGroups();
  const queryClient = useQueryClient();
  const validate = useCallback(
    (v: { name: string; description: string }) => schemaErrors(GroupInput, { name: v.name, ...(v.description ? { description: v.description } : {}) }),
    [],
  );
  const form = useForm({ name: '', description: '' }, validate);
  const create = useMutation({
    mutationFn: () =>
      api('POST', '/groups', { body: { name: form.values.name, ...(form.values.description ? { description: form.values.description } : {}) } }),
    onSuccess: () => {
      form.reset({ name: '', description: '' });
      void queryClient.invalidateQueries({ queryKey: keys.groups });
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  return (
    <>
      <PageHeader title="People" />
      <PeopleTabs />
      <form
        className="inline-form"
        aria-label="Add a group"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!form.reveal(['name', 'description'])) create.mutate();
        }}
      >
        <TextField form={form} name="name" label="Group name" />
        <TextField form={form} name="description" label="Description (optional)" />
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          Add group
        </button>
      </form>
      <ErrorNote error={create.error instanceof ApiError && create.error.issues.length > 0 ? null : create.error} title="Not saved" />
      {groups.isPending && <Loading what="groups" />}
      <ErrorNote error={groups.error} />
      {groups.data && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Groups</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Description</th>
                <th scope="col">Members</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.map((g) => (
                <tr key={g.id}>
                  <th scope="row">{g.name}</th>
                  <td>{g.description ?? '—'}</td>
                  <td>{g.members}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

interface TokenValues {
  userId: string;
  name: string;
  expiresInDays: string;
}

const tokenBody = (v: TokenValues) => ({ userId: v.userId, name: v.name, ...(v.expiresInDays.trim() ? { expiresInDays: numberOrText(v.expiresInDays) } : {}) });

export function TokensPage() {
  const users = useUsers();
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: keys.tokens, queryFn: () => allPages<Token>('/tokens') });
  const [created, setCreated] = useState<(Token & { token: string }) | null>(null);
  const validate = useCallback((v: TokenValues) => schemaErrors(TokenInput, tokenBody(v)), []);
  const form = useForm<TokenValues>({ userId: '', name: '', expiresInDays: '90' }, validate);
  const create = useMutation({
    mutationFn: () => api<Token & { token: string }>('POST', '/tokens', { body: tokenBody(form.values) }),
    onSuccess: (token) => {
      setCreated(token);
      form.reset({ userId: form.values.userId, name: '', expiresInDays: '90' });
      void queryClient.invalidateQueries({ queryKey: keys.tokens });
    },
    onError: (err) => err instanceof ApiError && form.setServerIssues(err.issues),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api('POST', `/tokens/${id}/revoke`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.tokens }),
  });
  const emails = new Map(users.data?.map((u) => [u.id, u.email]));
  return (
    <>
      <PageHeader title="People" />
      <PeopleTabs />
      {created && (
        <div className="panel">
          <SecretOnce
            label="API token"
            value={created.token}
            note={`Token "${created.name}" for ${emails.get(created.userId) ?? created.userId}. Copy it now: Latchkey keeps only its hash and cannot show it again.`}
          />
          <button type="button" className="button button--small" onClick={() => setCreated(null)}>
            Done, hide the token
          </button>
        </div>
      )}
      <form
        className="inline-form"
        aria-label="Create an API token"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!form.reveal(['userId', 'name', 'expiresInDays'])) create.mutate();
        }}
      >
        <SelectField
          form={form}
          name="userId"
          label="For"
          options={[{ value: '', label: 'Choose a person' }, ...(users.data ?? []).map((u) => ({ value: u.id, label: u.email }))]}
        />
        <TextField form={form} name="name" label="Token name" />
        <TextField form={form} name="expiresInDays" label="Expires in (days)" type="number" />
        <button type="submit" className="button button--primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      <ErrorNote error={(create.error instanceof ApiError && create.error.issues.length > 0 ? null : create.error) ?? revoke.error} title="That did not work" />
      {tokens.isPending && <Loading what="tokens" />}
      <ErrorNote error={tokens.error} />
      {tokens.data && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API tokens</caption>
            <thead>
              <tr>
                <th scope="col">Token</th>
                <th scope="col">Person</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>{emails.get(t.userId) ?? t.userId}</td>
                  <td>
                    <When at={t.createdAt} />
                  </td>
                  <td>
                    <When at={t.expiresAt} empty="never" />
                  </td>
                  <td>
                    <When at={t.lastUsedAt} empty="never" />
                  </td>
                  <td>
                    {t.revokedAt ? (
                      <span className="muted">
                        revoked <When at={t.revokedAt} />
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="button button--small button--danger"
                        aria-label={`Revoke token ${t.name}`}
                        onClick={() => revoke.mutate(t.id)}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
