import { useCallback, useMemo, useState } from 'react';
import type { ValidationIssue } from '@latchkey/contracts';
import { errorAt, errorsFromIssues, isUnder, setIn } from './form-state';
import type { FieldErrors } from './form-state';

export interface Form<V> {
  values: V;
  set(path: string, value: unknown): void;
  /**
   * The error to show beside a field: the server's, or the browser's once the field was touched or
   * revealed; of the field or its parts, or with `exact` of the field alone (a group's own rule).
   */
  error(path: string, exact?: boolean): string | undefined;
  /** Every error the browser finds now, shown or not. */
  clientErrors: FieldErrors;
  /** Shows the browser's errors of these fields (a step's Next, a Submit) and answers whether there are any. */
  reveal(prefixes: readonly string[]): boolean;
  /** A 400's field issues. */
  setServerIssues(issues: readonly ValidationIssue[]): void;
  serverErrors: FieldErrors;
  reset(values: V): void;
}

/** Form state checked on every change by `validate` (built from the contracts' zod schemas). */
export function useForm<V>(initial: V | (() => V), validate: (values: V) => FieldErrors): Form<V> {
  const [values, setValues] = useState<V>(initial);
  const [touched, setTouched] = useState<readonly string[]>([]);
  const [revealed, setRevealed] = useState<readonly string[]>([]);
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const clientErrors = useMemo(() => validate(values), [validate, values]);

  const set = useCallback((path: string, value: unknown) => {
    setValues((current) => setIn(current, path, value));
    setTouched((current) => (current.includes(path) ? current : [...current, path]));
    // The person changed the field: the server's verdict on the old value no longer applies.
    setServerErrors((current) => Object.fromEntries(Object.entries(current).filter(([field]) => !isUnder(field, [path]) && !isUnder(path, [field]))));
  }, []);

  const error = (path: string, exact = false) => {
    const pick = (errors: FieldErrors) => (exact ? errors[path] : errorAt(errors, path));
    const server = pick(serverErrors);
    if (server !== undefined) return server;
    return isUnder(path, touched) || isUnder(path, revealed) || touched.some((t) => isUnder(t, [path])) ? pick(clientErrors) : undefined;
  };

  const reveal = (prefixes: readonly string[]) => {
    setRevealed((current) => [...current, ...prefixes]);
    return Object.keys(clientErrors).some((field) => isUnder(field, prefixes));
  };

  return {
    values,
    set,
    error,
    clientErrors,
    reveal,
    setServerIssues: (issues) => setServerErrors(errorsFromIssues(issues)),
    serverErrors,
    reset: (next) => {
      setValues(next);
      setTouched([]);
      setRevealed([]);
      setServerErrors({});
    },
  };
}
