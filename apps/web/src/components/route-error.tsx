import { isRouteErrorResponse, Link, useRouteError } from 'react-router';

/** What a person sees when a page fails to load or render. */
export function RouteError() {
  const error = useRouteError();
  const text = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : error instanceof Error ? error.message : String(error);
  return (
    <main className="center-page" id="main">
      <h1>This page could not be shown</h1>
      <p className="alert alert--error" role="alert">
        {text}
      </p>
      <p>
        <Link to="/">Back to the console</Link>
      </p>
    </main>
  );
}
