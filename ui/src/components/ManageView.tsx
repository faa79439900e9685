import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, describeError } from '../api';
import { useServices } from '../context';
import { buildConnection, describeScheme, hasErrors, initialConnectionForm, validateConnectionForm, type ConnectionFormState } from '../credentials';
import { clearVariableError, mapFieldErrors, mapReplaceConnectionErrors, moveNameErrors, type ConnectionErrors, type ConnectionFieldKey, type ErrorSchemaNode } from '../errors';
import { postToHost } from '../host';
import { hasSettings } from '../summary';
import { useLoad } from '../useLoad';
import type { HubActivation } from '../backend';
import type { ConnectionSummary, EmbeddedIntegration, IntegrationSummary } from '../types';
import { ConnectionForm } from './ConnectionForm';
import { ErrorMessage, IntegrationIcon, LazyVariablesForm, loadVariablesForm, Spinner, VariablesFormSuspense, VariablesSummary, type TopError } from './common';
import { Modal } from './Modal';
import { SavedConnections } from './SavedConnections';
import { t as msg } from '../messages';
import type { VariablesFormHandle } from './VariablesForm';
import { topError } from './Wizard';

type Mode = { kind: 'overview' } | { kind: 'variables' } | { kind: 'replace'; index: number };

export interface ManageViewProps {
  summary: IntegrationSummary;
  onClose: () => void;
  onDeactivated: () => void;
  /** Something changed (the list may need a reload). */
  onChanged: () => void;
  /** A template whose connection needs attention: the view opens on reconnecting it. */
  reconnect?: string;
}

interface Loaded {
  integration: EmbeddedIntegration;
  activation: HubActivation;
}

/** The manage view of an activated integration: settings, connections, deactivate. */
export function ManageView({ summary, onClose, onDeactivated, onChanged, reconnect }: ManageViewProps) {
  const { backend } = useServices();
  const load = useLoad(
    useCallback(async (): Promise<Loaded> => {
      const [integration, activation] = await Promise.all([backend.getIntegration(summary), backend.getActivation(summary)]);
      return { integration, activation };
    }, [backend, summary]),
    {
      onLoaded: ({ integration }) => {
        if (hasSettings(integration.variablesSchema)) void loadVariablesForm();
      },
      onError: (e) => postToHost('error', { operation: 'load-activation', integrationId: summary.id, message: describeError(e) }),
    },
  );
  const loaded = load.data;
  const setLoaded = load.setData;
  const loadError = load.status === 'failed' ? topError(load.error) : null;
  const [mode, setMode] = useState<Mode>({ kind: 'overview' });
  const [topErr, setTopErr] = useState<TopError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  // Variables editing.
  const [vars, setVars] = useState<Record<string, unknown>>({});
  const [varErrors, setVarErrors] = useState<ErrorSchemaNode | null>(null);
  const varsRef = useRef<VariablesFormHandle>(null);
  // Connection replacing.
  const [connForm, setConnForm] = useState<ConnectionFormState | null>(null);
  const [connExisting, setConnExisting] = useState<ConnectionSummary[]>([]);
  const [connErrors, setConnErrors] = useState<ConnectionErrors>({});
  const headingRef = useRef<HTMLHeadingElement>(null);
  const returnFocus = useRef<string | null>(null);

  // Focus follows the view: the section heading when a sub-view opens, the button that opened it on the way back.
  useEffect(() => {
    if (mode.kind !== 'overview') headingRef.current?.focus();
    else if (returnFocus.current) {
      document.querySelector<HTMLElement>(`[data-testid="manage"] [data-testid="${returnFocus.current}"]`)?.focus();
      returnFocus.current = null;
    }
  }, [mode]);

  const toOverview = () => {
    setTopErr(null);
    setMode({ kind: 'overview' });
  };

  const startVariables = () => {
    if (!loaded) return;
    setNotice(null);
    setTopErr(null);
    setVarErrors(null);
    setVars({ ...(loaded.activation.dynamicVariables ?? {}) });
    returnFocus.current = 'reconfigure';
    setMode({ kind: 'variables' });
  };

  const saveVariables = async () => {
    if (!loaded || busy) return;
    if (varsRef.current && !varsRef.current.validate()) return;
    setBusy(true);
    setTopErr(null);
    try {
      const saved = await backend.updateVariables(summary, loaded.activation, vars);
      setLoaded({ ...loaded, activation: { ...loaded.activation, dynamicVariables: saved ?? vars } });
      setNotice(msg('manage.saved'));
      setMode({ kind: 'overview' });
      onChanged();
    } catch (e) {
      const top = topError(e);
      if (e instanceof ApiError) {
        const mapped = mapFieldErrors(e.body.fields);
        setVarErrors(mapped.variables);
        top.other = mapped.other;
      }
      setTopErr(top);
      postToHost('error', { operation: 'update-variables', integrationId: summary.id, message: top.message });
    } finally {
      setBusy(false);
    }
  };

  const startReplace = async (index: number) => {
    if (!loaded) return;
    const t = loaded.integration.connectionTemplates[index];
    setNotice(null);
    setTopErr(null);
    setConnErrors({});
    returnFocus.current = `replace-connection-${t.id}`;
    let existing: ConnectionSummary[] = [];
    try {
      existing = await backend.listConnections(t);
    } catch {
      existing = [];
    }
    setConnExisting(existing);
    // Replacing: a new connection is the likelier wish.
    setConnForm({ ...initialConnectionForm(t, existing.map((c) => c.id)), mode: 'new' });
    setMode({ kind: 'replace', index });
  };

  // Opened from a tile that needs attention: one click has started the reconnect.
  const reconnectStarted = useRef(false);
  useEffect(() => {
    if (!reconnect || reconnectStarted.current || !loaded) return;
    const index = loaded.integration.connectionTemplates.findIndex((t) => t.id === reconnect);
    if (index < 0) return;
    reconnectStarted.current = true;
    void startReplace(index);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [loaded, reconnect]);

  const saveConnection = async () => {
    if (!loaded || !connForm || mode.kind !== 'replace' || busy) return;
    const t = loaded.integration.connectionTemplates[mode.index];
    const errs = validateConnectionForm(t, connForm);
    setConnErrors(errs);
    if (hasErrors(errs)) {
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid="manage"] [aria-invalid="true"]')?.focus());
      return;
    }
    setBusy(true);
    setTopErr(null);
    try {
      const activation = await backend.replaceConnection(summary, loaded.activation, t, buildConnection(t, connForm));
      setLoaded({ ...loaded, activation: { ...loaded.activation, ...activation } });
      setNotice(msg('manage.replaced', { name: t.name }));
      setMode({ kind: 'overview' });
      onChanged();
    } catch (e) {
      const top = topError(e);
      if (e instanceof ApiError) {
        const errs = mapReplaceConnectionErrors(e.body.fields, (t.variables ?? []).map((v) => v.name));
        if (!backend.namesConnections) moveNameErrors(errs);
        // Name the user's connections instead of showing their ids.
        for (const list of Object.values(errs)) {
          list?.forEach((m, j) => {
            list[j] = connExisting.reduce((acc, c) => acc.split(c.id).join(`“${c.name}”`), m);
          });
        }
        setConnErrors(errs);
      }
      setTopErr(top);
      postToHost('error', { operation: 'replace-connection', integrationId: summary.id, templateId: t.id, message: top.message });
    } finally {
      setBusy(false);
    }
  };

  const deactivate = async () => {
    if (!loaded || busy) return;
    setBusy(true);
    setTopErr(null);
    try {
      await backend.deactivate(summary, loaded.activation);
      setConfirming(false);
      postToHost('deactivated', { activationId: loaded.activation.id, integrationId: summary.id, integrationName: summary.name });
      onDeactivated();
    } catch (e) {
      const top = topError(e);
      setConfirming(false);
      setTopErr(top);
      postToHost('error', { operation: 'deactivate', integrationId: summary.id, message: top.message });
    } finally {
      setBusy(false);
    }
  };

  const integration = loaded?.integration;
  const schema = hasSettings(integration?.variablesSchema) ? (integration?.variablesSchema as Record<string, unknown>) : null;

  return (
    <>
      <Modal
        title={summary.name}
        onClose={onClose}
        testId="manage"
        headerExtra={
          <span className="sy-badge">{msg('manage.connected')}</span>
        }
      >
        {loadError ? <ErrorMessage error={loadError} onRetry={load.reload} /> : null}
        {!loaded && !loadError ? <Spinner label={msg('loading')} /> : null}
        {notice && mode.kind === 'overview' ? (
          <div className="sy-alert sy-alert--success" role="status" data-testid="success-message">
            {notice}
          </div>
        ) : null}
        <ErrorMessage error={topErr} />
        {integration && loaded && mode.kind === 'overview' ? (
          <div className="sy-manage" data-testid="manage-overview">
            {integration.description || integration.imageUrl ? (
              <div className="sy-manage__intro">
                <IntegrationIcon name={integration.name} imageUrl={integration.imageUrl} size={40} />
                <p className="sy-muted">{integration.description}</p>
              </div>
            ) : null}
            <section className="sy-section" aria-labelledby="sy-manage-connections">
              <h3 id="sy-manage-connections" className="sy-section__title">
                {msg('manage.connections')}
              </h3>
              <ul className="sy-review__list">
                {integration.connectionTemplates.map((t, i) => (
                  <li key={t.id} className="sy-review__item" data-testid={`manage-connection-${t.id}`}>
                    <IntegrationIcon name={t.name} imageUrl={t.imageUrl} size={24} />
                    <span className="sy-review__text">
                      <strong>{t.name}</strong>
                      <span>{describeScheme(t.authSchemeConfig)}</span>
                    </span>
                    {backend.canReplaceConnection(loaded.activation, t) ? (
                      <button
                        type="button"
                        className="sy-button sy-button--secondary sy-button--small"
                        onClick={() => void startReplace(i)}
                        aria-label={msg('manage.replaceLabel', { name: t.name })}
                        data-testid={`replace-connection-${t.id}`}
                      >
                        {msg('manage.replace')}
                      </button>
                    ) : null}
                  </li>
                ))}
              </ul>
            </section>
            {schema ? (
              <section className="sy-section" aria-labelledby="sy-manage-settings">
                <h3 id="sy-manage-settings" className="sy-section__title">
                  {msg('manage.settings')}
                </h3>
                <div data-testid="variables-summary">
                  <VariablesSummary values={loaded.activation.dynamicVariables} schema={schema} />
                </div>
                <button type="button" className="sy-button sy-button--secondary" onClick={startVariables} data-testid="reconfigure">
                  {msg('manage.reconfigure')}
                </button>
              </section>
            ) : null}
            <SavedConnections />
            <section className="sy-section sy-section--danger" aria-labelledby="sy-manage-danger">
              <h3 id="sy-manage-danger" className="sy-section__title">
                {msg('manage.deactivate')}
              </h3>
              <p className="sy-muted">{msg('manage.deactivateIntro', { name: integration.name })}</p>
              <button type="button" className="sy-button sy-button--danger" onClick={() => setConfirming(true)} data-testid="deactivate">
                {msg('manage.deactivate')}
              </button>
            </section>
          </div>
        ) : null}
        {integration && loaded && mode.kind === 'variables' && schema ? (
          <div className="sy-step" data-testid="step-variables">
            <h3 className="sy-step__title" ref={headingRef} tabIndex={-1}>
              {msg('manage.reconfigureTitle')}
            </h3>
            <VariablesFormSuspense>
              <LazyVariablesForm
                ref={varsRef}
                schema={schema}
                formData={vars}
                onChange={(data, id) => {
                  setVars(data);
                  setVarErrors((prev) => clearVariableError(prev, id));
                }}
                onSubmit={() => void saveVariables()}
                extraErrors={varErrors}
                disabled={busy}
              />
            </VariablesFormSuspense>
            <div className="sy-actions">
              <button type="button" className="sy-button sy-button--secondary" onClick={toOverview} disabled={busy} data-testid="back">
                {msg('manage.back')}
              </button>
              <span className="sy-actions__spacer" />
              <button type="button" className="sy-button sy-button--primary" onClick={() => void saveVariables()} disabled={busy} data-testid="save-variables">
                {busy ? msg('manage.saving') : msg('manage.save')}
              </button>
            </div>
          </div>
        ) : null}
        {integration && connForm && mode.kind === 'replace' ? (
          <div className="sy-step" data-testid="step-replace-connection">
            <h3 className="sy-step__title" ref={headingRef} tabIndex={-1}>
              {msg(reconnect === integration.connectionTemplates[mode.index].id ? 'manage.reconnectTitle' : 'manage.replaceTitle', {
                name: integration.connectionTemplates[mode.index].name,
              })}
            </h3>
            {reconnect === integration.connectionTemplates[mode.index].id ? (
              <p className="sy-alert sy-alert--warning" data-testid="needs-attention-reason">
                {msg('manage.reconnectWhy', { name: integration.connectionTemplates[mode.index].name, integration: integration.name })}
              </p>
            ) : null}
            <form
              noValidate
              onSubmit={(e) => {
                e.preventDefault();
                void saveConnection();
              }}
            >
              <ConnectionForm
                template={integration.connectionTemplates[mode.index]}
                form={connForm}
                existing={connExisting}
                errors={connErrors}
                namesConnections={backend.namesConnections}
                onChange={(f, changed: ConnectionFieldKey) => {
                  setConnForm(f);
                  setConnErrors((prev) => {
                    if (!prev[changed]) return prev;
                    const copy = { ...prev };
                    delete copy[changed];
                    return copy;
                  });
                }}
              />
              <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
            </form>
            <div className="sy-actions">
              <button type="button" className="sy-button sy-button--secondary" onClick={toOverview} disabled={busy} data-testid="back">
                {msg('manage.back')}
              </button>
              <span className="sy-actions__spacer" />
              <button type="button" className="sy-button sy-button--primary" onClick={() => void saveConnection()} disabled={busy} data-testid="save-connection">
                {busy ? msg('manage.saving') : msg('manage.saveConnection')}
              </button>
            </div>
          </div>
        ) : null}
      </Modal>
      {confirming ? (
        <Modal
          title={msg('manage.deactivateTitle', { name: summary.name })}
          description={
            backend.kind === 'v1' ? msg('manage.deactivateWhat', { name: summary.name }) : msg('manage.deactivateWhatV2', { name: summary.name })
          }
          onClose={() => setConfirming(false)}
          testId="confirm-dialog"
          role="alertdialog"
          size="small"
          initialFocus={() => document.querySelector<HTMLElement>('[data-testid="confirm-dialog"] [data-testid="cancel"]')}
        >
          <div className="sy-actions">
            <button type="button" className="sy-button sy-button--secondary" onClick={() => setConfirming(false)} disabled={busy} data-testid="cancel">
              {msg('manage.cancel')}
            </button>
            <span className="sy-actions__spacer" />
            <button type="button" className="sy-button sy-button--danger" onClick={() => void deactivate()} disabled={busy} data-testid="confirm">
              {busy ? msg('manage.deactivating') : msg('manage.deactivate')}
            </button>
          </div>
        </Modal>
      ) : null}
    </>
  );
}
