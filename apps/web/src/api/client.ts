import type { ValidationIssue } from '@latchkey/contracts';

/** An API answer that is not 2xx, as the gateway's error envelope `{code, message, details}` says. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ValidationIssue[],
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

let csrfToken: string | null = null;
let onUnauthenticated: () => void = () => undefined;

/** The session's CSRF token, sent as X-CSRF-Token on every state-changing call. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** Called when an API call answers 401: the session ended (expired, signed out elsewhere). */
export function setUnauthenticatedHandler(handler: () => void) {
  onUnauthenticated = handler;
}

export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

/**
 * Calls the API with the session cookie. Errors become ApiError with the envelope's field issues,
 * so that a 400 can be shown beside the fields it names.
 */
export async function api<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (!['GET', 'HEAD'].includes(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(apiUrl(path, options.query), {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) {
    const envelope = (typeof body === 'object' && body !== null ? body : {}) as { code?: string; message?: string; details?: Record<string, unknown> };
    const issues = Array.isArray(envelope.details?.issues) ? (envelope.details.issues as ValidationIssue[]) : [];
    if (res.status === 401 && !path.startsWith('/auth/')) onUnauthenticated();
    throw new ApiError(res.status, envelope.code ?? `HTTP_${res.status}`, envelope.message ?? res.statusText, issues, envelope.details ?? {});
  }
  return body as T;
}

/** What to show a person for a failed call: the envelope's message, or the field rules. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.issues.length > 0 && error.code === 'VALIDATION_FAILED') return `${error.message} ${error.issues.map((i) => `${i.field} ${i.rule}`).join('; ')}`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
