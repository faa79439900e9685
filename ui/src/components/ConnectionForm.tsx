import { useEffect, useId, useRef, useState } from 'react';
import { describeError } from '../api';
import { useServices } from '../context';
import { credentialFields, describeScheme, humaniseName, type ConnectionFormState } from '../credentials';
import type { ConnectionErrors, ConnectionFieldKey } from '../errors';
import { initialiseBody, OAuthCancelled, startPopupFlow, type PopupFlow } from '../oauth';
import type { ConnectionSummary, ConnectionTemplate } from '../types';
import { Field, FieldErrors } from './Field';
import { t, type MessageKey } from '../messages';

export interface ConnectionFormProps {
  template: ConnectionTemplate;
  form: ConnectionFormState;
  onChange: (next: ConnectionFormState, changed: ConnectionFieldKey) => void;
  errors?: ConnectionErrors;
  /** The user's connections to the template's connector. */
  existing: ConnectionSummary[];
  /** Whether the user names a new connection (v1); v2 mode names it itself. */
  namesConnections?: boolean;
}

const LABELS: Partial<Record<ConnectionFieldKey, MessageKey>> = {
  username: 'form.username',
  password: 'form.password',
  certificate: 'form.certificate',
  key: 'form.privateKey',
  ca: 'form.ca',
  clientId: 'form.clientId',
  clientSecret: 'form.clientSecret',
};

const label = (key: ConnectionFieldKey): string => t(LABELS[key]!);

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The form for one connection template: reuse an existing connection, or make a new one. */
export function ConnectionForm({ template, form, onChange, errors = {}, existing, namesConnections = true }: ConnectionFormProps) {
  const scheme = template.authSchemeConfig;
  const groupName = useId();
  const set = <K extends keyof ConnectionFormState>(key: K, value: ConnectionFormState[K], changed: ConnectionFieldKey) =>
    onChange({ ...form, [key]: value }, changed);

  const fields = credentialFields(scheme);
  const hasExisting = existing.length > 0;
  // What the organisation wrote about the scheme is the help of the field it is about (the first
  // one the user types in), or beside the scheme when there is none.
  const help = scheme.description?.trim() || undefined;
  const helpField = fields.find((f) => f !== 'oauth');

  return (
    <div className="sy-connection-form">
      <FieldErrors errorKey="form" errors={errors.form} />
      {hasExisting ? (
        <fieldset className="sy-choice">
          <legend className="sy-label">{t('form.howToConnect', { name: template.name })}</legend>
          <label className="sy-radio">
            <input
              type="radio"
              name={groupName}
              value="existing"
              checked={form.mode === 'existing'}
              onChange={() => set('mode', 'existing', 'existing')}
              data-testid="connection-mode-existing"
            />
            {t('form.useExisting')}
          </label>
          <label className="sy-radio">
            <input
              type="radio"
              name={groupName}
              value="new"
              checked={form.mode === 'new'}
              onChange={() => set('mode', 'new', 'name')}
              data-testid="connection-mode-new"
            />
            {t('form.createNew')}
          </label>
        </fieldset>
      ) : null}

      {hasExisting && form.mode === 'existing' ? (
        <Field label={t('form.connection')} errorKey="existing" errors={errors.existing} required>
          {(p) => (
            <select {...p} value={form.existingId} onChange={(e) => set('existingId', e.target.value, 'existing')} data-testid="existing-connection">
              {form.existingId ? null : <option value="">{t('form.chooseConnection')}</option>}
              {existing.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : (
        <>
          <p className="sy-scheme" data-testid="auth-scheme">
            {describeScheme(scheme)}
            {help && !helpField ? <span className="sy-hint"> — {help}</span> : null}
          </p>
          {namesConnections ? (
            <Field label={t('form.connectionName')} errorKey="name" errors={errors.name} required hint={t('form.connectionNameHint')}>
              {(p) => (
                <input {...p} type="text" autoComplete="off" value={form.name} onChange={(e) => set('name', e.target.value, 'name')} data-testid="connection-name" />
              )}
            </Field>
          ) : null}
          {fields.map((field) => {
            if (field === 'oauth') return <OAuthConnect key="oauth" template={template} form={form} onChange={onChange} errors={errors.oauth} />;
            if (field === 'apiKey') {
              // Never the header's or query parameter's name (`X-Api-Key`, `api_token`): words.
              const label = scheme.schemeType === 'api-key' ? t('form.apiKey', { name: template.name }) : t('form.signingSecret');
              return (
                <Field key={field} label={label} errorKey="apiKey" errors={errors.apiKey} required hint={helpField === field ? help : undefined}>
                  {(p) => (
                    <input {...p} type="password" autoComplete="off" spellCheck={false} value={form.apiKey} onChange={(e) => set('apiKey', e.target.value, 'apiKey')} data-testid="credential-api-key" />
                  )}
                </Field>
              );
            }
            if (field === 'certificate' || field === 'key' || field === 'ca') {
              return (
                <Field
                  key={field}
                  label={label(field)}
                  errorKey={field}
                  errors={errors[field]}
                  required={field !== 'ca'}
                  hint={helpField === field && help ? `${help} ${t('form.pemHint')}` : t('form.pemHint')}
                >
                  {(p) => (
                    <textarea
                      {...p}
                      rows={5}
                      spellCheck={false}
                      autoComplete="off"
                      className="sy-mono"
                      value={form[field]}
                      onChange={(e) => set(field, e.target.value, field)}
                      data-testid={`credential-${field}`}
                    />
                  )}
                </Field>
              );
            }
            const key = field as 'username' | 'password' | 'clientId' | 'clientSecret';
            const secret = key === 'password' || key === 'clientSecret';
            return (
              <Field key={key} label={label(key)} errorKey={key} errors={errors[key]} required hint={helpField === key ? help : undefined}>
                {(p) => (
                  <input
                    {...p}
                    type={secret ? 'password' : 'text'}
                    autoComplete={key === 'username' ? 'username' : key === 'password' ? 'current-password' : 'off'}
                    spellCheck={false}
                    value={form[key]}
                    onChange={(e) => set(key, e.target.value, key)}
                    data-testid={`credential-${key === 'clientId' ? 'client-id' : key === 'clientSecret' ? 'client-secret' : key}`}
                  />
                )}
              </Field>
            );
          })}
          {(template.variables ?? []).map((v) => (
            <Field key={v.name} label={capitalise(humaniseName(v.name))} errorKey={`variable-${v.name}`} errors={errors[`variable:${v.name}`]} required>
              {(p) => (
                <input
                  {...p}
                  type="text"
                  autoComplete="off"
                  value={form.variables[v.name] ?? ''}
                  onChange={(e) => onChange({ ...form, variables: { ...form.variables, [v.name]: e.target.value } }, `variable:${v.name}`)}
                  data-testid={`connection-variable-${v.name}`}
                />
              )}
            </Field>
          ))}
        </>
      )}
    </div>
  );
}

type OAuthStatus = { kind: 'idle' } | { kind: 'waiting' } | { kind: 'failed'; message: string } | { kind: 'cancelled'; message: string };

function OAuthConnect({
  template,
  form,
  onChange,
  errors,
}: {
  template: ConnectionTemplate;
  form: ConnectionFormState;
  onChange: ConnectionFormProps['onChange'];
  errors?: string[];
}) {
  const { backend } = useServices();
  const [status, setStatus] = useState<OAuthStatus>({ kind: 'idle' });
  const flowRef = useRef<PopupFlow | null>(null);
  const formRef = useRef(form);
  formRef.current = form;
  const statusId = useId();

  useEffect(() => () => flowRef.current?.cancel(), []);

  const connect = () => {
    flowRef.current?.cancel();
    setStatus({ kind: 'waiting' });
    const flow = startPopupFlow({ initialise: () => backend.oauthInitialise(template, initialiseBody(template.authSchemeConfig)) });
    flowRef.current = flow;
    flow.result.then(
      (res) => {
        if (flowRef.current !== flow) return;
        flowRef.current = null;
        setStatus({ kind: 'idle' });
        onChange({ ...formRef.current, oauth: res }, 'oauth');
      },
      (e: unknown) => {
        if (flowRef.current !== flow) return;
        flowRef.current = null;
        if (e instanceof OAuthCancelled) setStatus({ kind: 'cancelled', message: e.message });
        else setStatus({ kind: 'failed', message: describeError(e) });
      },
    );
  };

  const connected = !!form.oauth;
  const shownErrors = status.kind === 'failed' || status.kind === 'cancelled' ? [status.message, ...(errors ?? [])] : errors;
  return (
    <div className="sy-field">
      <span className="sy-label">{t('form.account')}</span>
      <div className="sy-oauth">
        <button
          type="button"
          className={connected ? 'sy-button sy-button--secondary' : 'sy-button sy-button--primary'}
          onClick={connect}
          aria-describedby={statusId}
          data-testid="oauth-connect"
        >
          {t(connected ? 'form.oauthReconnect' : 'form.oauthConnect', { name: template.name })}
        </button>
        <span id={statusId} className="sy-oauth__status" role="status" data-testid="oauth-status" data-state={connected ? 'connected' : status.kind}>
          {status.kind === 'waiting' ? t('form.oauthWaiting') : connected ? t('form.oauthConnected') : t('form.oauthNotYet')}
        </span>
      </div>
      <FieldErrors errorKey="oauth" errors={shownErrors} />
    </div>
  );
}
