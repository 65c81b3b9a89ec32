import type { ReactNode } from 'react';
import { fieldId, getIn } from '../forms/form-state';
import type { Form } from '../forms/use-form';

interface FieldProps<V> {
  form: Form<V>;
  name: string;
  label: string;
  hint?: ReactNode;
}

/** A label, the control, a hint and the error, tied together for screen readers (aria-describedby). */
function FieldFrame({
  id,
  label,
  hint,
  error,
  children,
  counter,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  children: ReactNode;
  counter?: ReactNode;
}) {
  return (
    <div className={error ? 'field field--invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {counter}
      {hint && (
        <p className="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function describedBy(id: string, hint: unknown, error: unknown, extra?: string): string | undefined {
  const ids = [extra, hint ? `${id}-hint` : undefined, error ? `${id}-error` : undefined].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

const textOf = (value: unknown) => (value === undefined || value === null ? '' : String(value));

export function TextField<V>({
  form,
  name,
  label,
  hint,
  type = 'text',
  autoComplete = 'off',
  required,
  inputMode,
}: FieldProps<V> & {
  type?: 'text' | 'password' | 'email' | 'number' | 'date' | 'time' | 'search';
  autoComplete?: string;
  required?: boolean;
  inputMode?: 'numeric' | 'text';
}) {
  const id = fieldId(name);
  const error = form.error(name);
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        name={name}
        type={type === 'number' ? 'text' : type}
        inputMode={type === 'number' ? 'numeric' : inputMode}
        autoComplete={autoComplete}
        required={required}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        value={textOf(getIn(form.values, name))}
        onChange={(e) => form.set(name, e.target.value)}
      />
    </FieldFrame>
  );
}

export function TextAreaField<V>({
  form,
  name,
  label,
  hint,
  rows = 4,
  maxLength,
  counter,
}: FieldProps<V> & { rows?: number; maxLength?: number; counter?: boolean }) {
  const id = fieldId(name);
  const error = form.error(name);
  const value = textOf(getIn(form.values, name));
  const counterNode =
    counter && maxLength !== undefined ? (
      <p className={value.length > maxLength ? 'field__counter field__counter--over' : 'field__counter'} id={`${id}-counter`} aria-live="polite">
        {value.length} / {maxLength} characters
      </p>
    ) : undefined;
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error} counter={counterNode}>
      <textarea
        id={id}
        name={name}
        rows={rows}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error, counterNode ? `${id}-counter` : undefined)}
        value={value}
        onChange={(e) => form.set(name, e.target.value)}
      />
    </FieldFrame>
  );
}

export function SelectField<V>({ form, name, label, hint, options }: FieldProps<V> & { options: ReadonlyArray<{ value: string; label: string }> }) {
  const id = fieldId(name);
  const error = form.error(name);
  return (
    <FieldFrame id={id} label={label} hint={hint} error={error}>
      <select
        id={id}
        name={name}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error)}
        value={textOf(getIn(form.values, name))}
        onChange={(e) => form.set(name, e.target.value)}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

export function CheckboxField<V>({ form, name, label, hint }: FieldProps<V>) {
  const id = fieldId(name);
  const error = form.error(name);
  return (
    <div className={error ? 'field field--check field--invalid' : 'field field--check'}>
      <input
        id={id}
        type="checkbox"
        checked={getIn(form.values, name) === true}
        aria-describedby={describedBy(id, hint, error)}
        onChange={(e) => form.set(name, e.target.checked)}
      />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export interface Choice {
  value: string;
  label: string;
  description?: ReactNode;
  disabled?: boolean;
}

/** Radio buttons (one value) or checkboxes (`multiple`: an array of values) in a fieldset whose legend names them. */
export function ChoiceGroup<V>({
  form,
  name,
  legend,
  hint,
  choices,
  multiple,
}: {
  form: Form<V>;
  name: string;
  legend: string;
  hint?: ReactNode;
  choices: readonly Choice[];
  multiple?: boolean;
}) {
  const id = fieldId(name);
  const error = form.error(name);
  const current = getIn(form.values, name);
  const selected = multiple ? (Array.isArray(current) ? (current as string[]) : []) : [textOf(current)];
  const toggle = (value: string, on: boolean) => {
    if (!multiple) form.set(name, value);
    else form.set(name, on ? [...selected, value] : selected.filter((v) => v !== value));
  };
  return (
    <fieldset
      className={error ? 'choices choices--invalid' : 'choices'}
      aria-describedby={describedBy(id, hint, error)}
      aria-invalid={error ? true : undefined}
    >
      <legend>{legend}</legend>
      {hint && (
        <p className="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {choices.map((choice) => {
        const choiceId = `${id}-${choice.value.replace(/[^A-Za-z0-9_-]/g, '-')}`;
        return (
          <div className={choice.disabled ? 'choice choice--disabled' : 'choice'} key={choice.value}>
            <input
              id={choiceId}
              type={multiple ? 'checkbox' : 'radio'}
              name={name}
              value={choice.value}
              checked={selected.includes(choice.value)}
              disabled={choice.disabled}
              aria-describedby={choice.description ? `${choiceId}-desc` : undefined}
              onChange={(e) => toggle(choice.value, e.target.checked)}
            />
            <label htmlFor={choiceId}>{choice.label}</label>
            {choice.description && (
              <div className="choice__description" id={`${choiceId}-desc`}>
                {choice.description}
              </div>
            )}
          </div>
        );
      })}
      {error && (
        <p className="field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}
