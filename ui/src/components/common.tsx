import { lazy, Suspense, type ReactNode } from 'react';
import { humaniseMessage, type FieldErrorBody } from '../errors';
import { t } from '../messages';
import { summariseVariables } from '../summary';

/** The rjsf form lives in its own chunk, loaded when a dialog needs it. */
export const loadVariablesForm = () => import('./VariablesForm');
export const LazyVariablesForm = lazy(loadVariablesForm);

export function VariablesFormSuspense({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Spinner label={t('loading.form')} />}>{children}</Suspense>;
}

export function Spinner({ label }: { label: string }) {
  return (
    <div className="sy-spinner" role="status" data-testid="loading">
      <span className="sy-spinner__wheel" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export interface TopError {
  message: string;
  kind: 'network' | 'api' | 'client';
  other?: FieldErrorBody[];
}

/** The overall message of a failed call, at the top of a dialog. */
export function ErrorMessage({ error, onRetry }: { error: TopError | null; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="sy-alert sy-alert--error" role="alert" data-testid="error-message" data-error-kind={error.kind}>
      <p className="sy-alert__title">{humaniseMessage(error.message)}</p>
      {error.other && error.other.length ? (
        <ul>
          {error.other.map((f, i) => (
            <li key={i} data-field={f.field}>
              {f.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" className="sy-button sy-button--secondary sy-button--small" onClick={onRetry} data-testid="retry">
          {t('error.retry')}
        </button>
      ) : null}
    </div>
  );
}

export function IntegrationIcon({ name, imageUrl, size = 40 }: { name: string; imageUrl?: string; size?: number }) {
  const letter = (name.trim()[0] ?? '?').toUpperCase();
  return (
    <span className="sy-icon" style={{ width: size, height: size }} aria-hidden="true">
      {imageUrl ? (
        <img
          src={imageUrl}
          alt=""
          width={size}
          height={size}
          loading="lazy"
          referrerPolicy="no-referrer"
          onError={(e) => {
            (e.currentTarget as HTMLImageElement).style.display = 'none';
          }}
        />
      ) : null}
      <span className="sy-icon__letter">{letter}</span>
    </span>
  );
}

/** Key/value summary of variables (nested objects flattened). */
export function VariablesSummary({ values, schema, testId }: { values: Record<string, unknown>; schema?: Record<string, unknown> | null; testId?: string }) {
  const rows = summariseVariables(values, schema);
  if (rows.length === 0) return <p className="sy-muted">No settings.</p>;
  return (
    <dl className="sy-summary" data-testid={testId}>
      {rows.map((r) => (
        <div key={r.path} className="sy-summary__row">
          <dt>{r.label}</dt>
          <dd>{r.value}</dd>
        </div>
      ))}
    </dl>
  );
}
