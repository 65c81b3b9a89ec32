import { Suspense } from 'react';
import { Navigate, NavLink, Outlet, useLocation, useNavigation } from 'react-router';
import { useSession, useSignOut } from '../api/session';
import { ErrorNote, Loading } from './ui';

/** The portal: every signed-in person. */
const PORTAL_NAV: ReadonlyArray<[string, string]> = [
  ['/portal/request', 'New request'],
  ['/portal/requests', 'My requests'],
  ['/portal/approvals', 'Pending approvals'],
  ['/portal/notifications', 'My notifications'],
];

/** The admin console: administrators only. */
const NAV: ReadonlyArray<[string, string]> = [
  ['/catalog', 'Catalog'],
  ['/integrations', 'Integrations'],
  ['/connectors', 'Connectors'],
  ['/resources', 'Resources'],
  ['/access-flows', 'Access flows'],
  ['/activity', 'Activity'],
  ['/audit', 'Audit'],
  ['/people/users', 'People'],
  ['/notifications', 'Notifications'],
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
  const admin = user.role === 'admin';
  const inPortal = location.pathname.startsWith('/portal/');
  if (!admin && location.pathname === '/') return <Navigate to="/portal/request" replace />;

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
          <ul aria-label="Portal">
            {PORTAL_NAV.map(([to, label]) => (
              <li key={to}>
                <NavLink
                  to={to}
                  end
                  className={({ isActive }) =>
                    isActive || (to === '/portal/requests' && location.pathname.startsWith('/portal/requests/'))
                      ? 'sidenav__link sidenav__link--active'
                      : 'sidenav__link'
                  }
                >
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
          {admin && (
            <ul aria-label="Administration">
              {NAV.map(([to, label]) => (
                <li key={to}>
                  <NavLink
                    to={to}
                    className={({ isActive }) =>
                      isActive || (to.startsWith('/people') && location.pathname.startsWith('/people'))
                        ? 'sidenav__link sidenav__link--active'
                        : 'sidenav__link'
                    }
                  >
                    {label}
                  </NavLink>
                </li>
              ))}
            </ul>
          )}
        </nav>
        <main id="main" className="content" tabIndex={-1} aria-busy={navigation.state === 'loading'}>
          {!admin && !inPortal ? (
            <div className="alert" role="note">
              The admin console is for administrators. Ask an administrator for access, or <NavLink to="/portal/request">request access to a database</NavLink>.
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
