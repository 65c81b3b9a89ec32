import { CliError, ExitCode } from './exit-codes';

export interface ErrorBody {
  code?: string;
  message?: string;
  details?: { issues?: Array<{ field: string; rule: string }>; [key: string]: unknown };
}

/** An error answer of the API, with its envelope. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    const issues = body.details?.issues?.map((i) => `\n  ${i.field}: ${i.rule}`).join('') ?? '';
    super(`${body.message ?? `the server answered ${status}`}${issues}`, status === 401 ? ExitCode.Unauthenticated : ExitCode.Failure, body.details);
  }
}

/** The public HTTP API with a bearer token: the only thing the CLI talks to. */
export class ApiClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    // The audit log records what the CLI changes with the source `cli`.
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json', 'x-latchkey-client': 'cli' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach ${this.url}: ${cause}`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = { message: `the server answered ${res.status} with a body that is not JSON` };
    }
    if (!res.ok) throw new ApiError(res.status, (parsed ?? {}) as ErrorBody);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  /** Every item of a paged list route. */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.get<{ items: T[]; nextPageToken?: string }>(
        `${path}${path.includes('?') ? '&' : '?'}pageSize=500${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`,
      );
      items.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return items;
  }
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
