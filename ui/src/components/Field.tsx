import { useId, type ReactNode } from 'react';

export interface FieldProps {
  label: ReactNode;
  /** The key used in the error's test id: `field-error-<errorKey>`. */
  errorKey: string;
  errors?: string[];
  hint?: ReactNode;
  required?: boolean;
  children: (props: { id: string; 'aria-invalid': boolean | undefined; 'aria-describedby': string | undefined; required: boolean | undefined }) => ReactNode;
}

/** A labelled field with its hint and errors, wired up for assistive technology. */
export function Field({ label, errorKey, errors, hint, required, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const hasErrors = !!errors && errors.length > 0;
  const describedBy = [hint ? hintId : '', hasErrors ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`sy-field${hasErrors ? ' sy-field--invalid' : ''}`}>
      <label htmlFor={id} className="sy-label">
        {label}
        {required ? (
          <span className="sy-required" aria-hidden="true">
            *
          </span>
        ) : null}
      </label>
      {hint ? (
        <p id={hintId} className="sy-hint">
          {hint}
        </p>
      ) : null}
      {children({ id, 'aria-invalid': hasErrors || undefined, 'aria-describedby': describedBy, required: required || undefined })}
      <FieldErrors id={errorId} errorKey={errorKey} errors={errors} />
    </div>
  );
}

export function FieldErrors({ id, errorKey, errors }: { id?: string; errorKey: string; errors?: string[] }) {
  if (!errors || errors.length === 0) return null;
  return (
    <div id={id} className="sy-field-error" data-testid={`field-error-${errorKey}`}>
      {errors.map((e, i) => (
        <p key={i}>
          <svg aria-hidden="true" width="14" height="14" viewBox="0 0 16 16" className="sy-field-error__icon">
            <circle cx="8" cy="8" r="7" fill="currentColor" />
            <path d="M8 4.5v4.2M8 10.8v.7" stroke="#fff" strokeWidth="1.6" strokeLinecap="round" />
          </svg>
          {e}
        </p>
      ))}
    </div>
  );
}
