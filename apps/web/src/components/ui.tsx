import { useEffect, useId, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { errorText } from '../api/client';

/** A page's title (the one h1) and its actions. */
export function PageHeader({ title, children, description }: { title: string; children?: ReactNode; description?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Latchkey`;
  }, [title]);
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="page-header__description">{description}</p>}
      </div>
      {children && <div className="page-header__actions">{children}</div>}
    </header>
  );
}

/** "Copy fix SQL for …", "Copy API token": what the copy button of a thing is called. */
const copyName = (what: string) => `Copy ${/^[A-Z][a-z]/.test(what) ? what[0].toLowerCase() + what.slice(1) : what}`;

/** Copies text to the clipboard and says so (for fix SQL, one-time links and tokens). */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <span className="copy">
      <button
        type="button"
        className="button button--small"
        aria-label={copyName(what)}
        onClick={() => {
          navigator.clipboard.writeText(text).then(
            () => setState('copied'),
            () => setState('failed'),
          );
        }}
      >
        Copy
      </button>
      <span className="copy__status" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the text and copy it' : ''}
      </span>
    </span>
  );
}

/** A value shown once (a token, a one-time link): a read-only box to select, and a copy button. */
export function SecretOnce({ label, value, note }: { label: string; value: string; note: ReactNode }) {
  const id = useId();
  return (
    <div className="once" role="region" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{label}</h3>
      <p className="once__note" id={`${id}-note`}>
        {note}
      </p>
      <div className="once__value">
        <label className="visually-hidden" htmlFor={id}>
          {label}
        </label>
        <input id={id} readOnly value={value} aria-describedby={`${id}-note`} onFocus={(e) => e.target.select()} />
        <CopyButton text={value} what={label} />
      </div>
    </div>
  );
}

/** SQL (or a command) to read and copy, named by its caption. */
export function CodeBlock({ caption, code }: { caption: string; code: string }) {
  const id = useId();
  return (
    <figure className="code" aria-labelledby={id}>
      <figcaption>
        <span id={id}>{caption}</span>
        <CopyButton text={code} what={caption} />
      </figcaption>
      <pre tabIndex={0}>
        <code>{code}</code>
      </pre>
    </figure>
  );
}

export type Tone = 'ok' | 'bad' | 'busy' | 'idle' | 'warn';

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge--${tone}`}>{children}</span>;
}

const STATUS_TONES: Record<string, Tone> = {
  ACTIVE: 'ok',
  CONNECTED: 'ok',
  GRANTED: 'ok',
  APPROVED: 'busy',
  ERROR: 'bad',
  DISCONNECTED: 'bad',
  FAILED: 'bad',
  REJECTED: 'bad',
  INITIALIZING: 'busy',
  REFRESHING: 'busy',
  REVOKING: 'busy',
  PENDING: 'warn',
  EXPIRED: 'idle',
  REVOKED: 'idle',
};

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONES[status] ?? 'idle'}>{status}</Badge>;
}

export function ErrorNote({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <div className="alert alert--error" role="alert">
      <strong>{title}:</strong> {errorText(error)}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** Dates as people read them, in their time zone; the ISO value stays in the title. */
export function When({ at, empty = '—' }: { at: string | null | undefined; empty?: string }) {
  if (!at) return <span>{empty}</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  );
}

/** A modal dialog (the native <dialog>: focus is trapped and Escape closes it). */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={id} onClose={onClose}>
      {open && (
        <>
          <h2 id={id}>{title}</h2>
          {children}
        </>
      )}
    </dialog>
  );
}

/** Previous/next over a list paged with `nextPageToken`. */
export function Pager({
  page,
  hasNext,
  onPrevious,
  onNext,
  label,
}: {
  page: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
}) {
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="button button--small" disabled={page === 0} onClick={onPrevious}>
        Previous page
      </button>
      <span>Page {page + 1}</span>
      <button type="button" className="button button--small" disabled={!hasNext} onClick={onNext}>
        Next page
      </button>
    </nav>
  );
}

/** The page tokens seen so far, for Previous/Next over an API list; a new `key` (the filters) starts again. */
export function usePages(key: string) {
  const [state, setState] = useState<{ key: string; tokens: Array<string | undefined> }>({ key, tokens: [undefined] });
  const tokens = state.key === key ? state.tokens : [undefined];
  const page = tokens.length - 1;
  return {
    page,
    pageToken: tokens[page],
    next: (token: string | undefined) => {
      if (token) setState({ key, tokens: [...tokens, token] });
    },
    previous: () => setState({ key, tokens: tokens.length > 1 ? tokens.slice(0, -1) : tokens }),
  };
}

/** A value that follows its input after a pause (search boxes). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}
