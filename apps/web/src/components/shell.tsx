import { Suspense } from 'react';
import { Navigate, NavLink, Outlet, useLocation, useNavigation } from 'react-router';
import { useSession, useSignOut } from '../api/session';
import { ErrorNote, Loading } from './ui';

const NAV: ReadonlyArray<[string, string]> = [
  ['/catalog', 'Catalog'],
  ['/integrations', 'Integrations'],
  ['/connectors', 'Connectors'],
  ['/resources', 'Resources'],
  ['/access-flows', 'Access flows'],
  ['/activity', 'Activity'],
  ['/audit', 'Audit'],
  ['/people/users', 'People'],
];

/** The signed-in frame: navigation, who is signed in, sign out; sends everyone else to sign in. */
export function Shell() {
  const session = useSession();
  const location = useLocation();
  const navigation = useNavigation();
  const signOut = useSignOut();

  if (session.isPending) return <Loading what="your session" />;
  if (session.isError) return <ErrorNote error={session.error} title="Latchkey does not answer" />;
  if (!session.data) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  const { user } = session.data;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="topbar__brand">Latchkey</span>
        <span className="topbar__user">
          <span>
            {user.name} ({user.email}
            {user.role === 'admin' ? ', admin' : ''})
          </span>
          <button type="button" className="button button--small button--quiet" onClick={() => signOut.mutate(false)}>
            Sign out
          </button>
          <button type="button" className="button button--small button--quiet" onClick={() => signOut.mutate(true)}>
            Sign out everywhere
          </button>
        </span>
      </header>
      <div className="shell__body">
        <nav className="sidenav" aria-label="Console">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to} className={({ isActive }) => (isActive || (to.startsWith('/people') && location.pathname.startsWith('/people')) ? 'sidenav__link sidenav__link--active' : 'sidenav__link')}>
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" className="content" tabIndex={-1} aria-busy={navigation.state === 'loading'}>
          {user.role !== 'admin' ? (
            <div className="alert" role="note">
              The admin console is for administrators. Ask an administrator for access.
            </div>
          ) : (
            <Suspense fallback={<Loading what="the page" />}>
              <Outlet />
            </Suspense>
          )}
        </main>
      </div>
    </div>
  );
}
