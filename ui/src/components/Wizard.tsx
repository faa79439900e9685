import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, describeError, NetworkError } from '../api';
import { useServices } from '../context';
import { buildConnection, describeScheme, hasErrors, initialConnectionForm, validateConnectionForm, type ConnectionFormState } from '../credentials';
import { clearVariableError, mapFieldErrors, type FieldErrorBody, moveNameErrors, type ConnectionErrors, type ConnectionFieldKey, type ErrorSchemaNode } from '../errors';
import { postToHost } from '../host';
import { hasSettings } from '../summary';
import { useLoad } from '../useLoad';
import type { ConnectionSummary, EmbeddedIntegration, IntegrationSummary, NewConnection } from '../types';
import { ConnectionForm } from './ConnectionForm';
import { ErrorMessage, IntegrationIcon, LazyVariablesForm, loadVariablesForm, Spinner, VariablesFormSuspense, VariablesSummary, type TopError } from './common';
import { Modal } from './Modal';
import { t as msg } from '../messages';
import type { VariablesFormHandle } from './VariablesForm';

type Step = { kind: 'connection'; index: number } | { kind: 'variables' } | { kind: 'review' };

interface Loaded {
  /** The integration, with the new user's primary connection step first when one is asked for. */
  integration: EmbeddedIntegration;
  /** The integration as the server has it. */
  original: EmbeddedIntegration;
  /** Whether the first connection step is the new user's primary connection. */
  primary: boolean;
  existing: ConnectionSummary[][];
}

/** The server's field paths with the primary connection step counted as `connections[0]`. */
function shiftForPrimary(fields: FieldErrorBody[] | undefined): FieldErrorBody[] | undefined {
  return fields?.map((f) => ({
    ...f,
    field: f.field.startsWith('primaryConnection')
      ? f.field.replace(/^primaryConnection\.?/, 'connections[0].')
      : f.field.replace(/^connections\[(\d+)\]/, (_m, i: string) => `connections[${Number(i) + 1}]`),
  }));
}

export interface WizardProps {
  summary: IntegrationSummary;
  onClose: () => void;
  onActivated: (activation: { id: string }) => void;
  /** The list may be stale (for example after a 409). */
  onStale: () => void;
}

/** Turns a thrown error into the dialog's top message. */
export function topError(e: unknown): TopError {
  if (e instanceof NetworkError) return { kind: 'network', message: e.message };
  if (e instanceof ApiError) return { kind: 'api', message: describeError(e) };
  return { kind: 'client', message: describeError(e) };
}

/** The activation wizard: one step per connection template, the variables, a review, Activate. */
export function Wizard({ summary, onClose, onActivated, onStale }: WizardProps) {
  const { backend } = useServices();
  const [stepIndex, setStepIndex] = useState(0);
  const [forms, setForms] = useState<ConnectionFormState[]>([]);
  const [vars, setVars] = useState<Record<string, unknown>>({});
  const [connErrors, setConnErrors] = useState<Record<number, ConnectionErrors>>({});
  const [varErrors, setVarErrors] = useState<ErrorSchemaNode | null>(null);
  const [topErr, setTopErr] = useState<TopError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const varsRef = useRef<VariablesFormHandle>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const focusHeading = useRef(false);

  const load = useLoad(
    useCallback(async (): Promise<Loaded> => {
      const original = await backend.getIntegration(summary);
      const primary = await backend.primaryStep(original);
      const integration = primary ? { ...original, connectionTemplates: [primary, ...original.connectionTemplates] } : original;
      const byConnectorTemplate = new Map(integration.connectionTemplates.map((t) => [t.connectorId, t]));
      const connectorIds = Array.from(byConnectorTemplate.keys());
      const lists = await Promise.all(connectorIds.map((id) => backend.listConnections(byConnectorTemplate.get(id)!)));
      const byConnector = new Map(connectorIds.map((id, i) => [id, lists[i]]));
      return { integration, original, primary: !!primary, existing: integration.connectionTemplates.map((t) => byConnector.get(t.connectorId) ?? []) };
    }, [backend, summary]),
    {
      onLoaded: ({ integration, existing }) => {
        setForms(integration.connectionTemplates.map((t, i) => initialConnectionForm(t, existing[i].map((c) => c.id))));
        setVars({});
        if (hasSettings(integration.variablesSchema)) void loadVariablesForm();
      },
      onError: (e) => postToHost('error', { operation: 'load-integration', integrationId: summary.id, message: describeError(e) }),
    },
  );
  const loaded = load.data;
  const loadError = load.status === 'failed' ? topError(load.error) : null;

  const integration = loaded?.integration;
  const schema = hasSettings(integration?.variablesSchema) ? (integration?.variablesSchema as Record<string, unknown>) : null;
  const steps: Step[] = useMemo(() => {
    if (!integration) return [];
    const s: Step[] = integration.connectionTemplates.map((_, index) => ({ kind: 'connection', index }));
    if (schema) s.push({ kind: 'variables' });
    s.push({ kind: 'review' });
    return s;
  }, [integration, schema]);
  const step = steps[stepIndex];

  useEffect(() => {
    if (focusHeading.current) {
      focusHeading.current = false;
      headingRef.current?.focus();
    }
  }, [stepIndex]);

  const goTo = (i: number) => {
    focusHeading.current = true;
    setStepIndex(i);
  };

  const focusFirstInvalid = () =>
    requestAnimationFrame(() => {
      const el = document.querySelector<HTMLElement>('[data-testid="wizard"] [aria-invalid="true"]');
      el?.focus();
    });

  const next = () => {
    if (!integration || !step) return;
    if (step.kind === 'connection') {
      const t = integration.connectionTemplates[step.index];
      const errs = validateConnectionForm(t, forms[step.index]);
      setConnErrors((prev) => ({ ...prev, [step.index]: errs }));
      if (hasErrors(errs)) {
        focusFirstInvalid();
        return;
      }
    } else if (step.kind === 'variables') {
      if (varsRef.current && !varsRef.current.validate()) {
        focusFirstInvalid();
        return;
      }
    }
    goTo(Math.min(stepIndex + 1, steps.length - 1));
  };

  const back = () => goTo(Math.max(0, stepIndex - 1));

  const activate = async () => {
    if (!integration || submitting) return;
    const templates = integration.connectionTemplates;
    // Every step checked again (the user may have come back and changed things).
    for (let i = 0; i < templates.length; i++) {
      const errs = validateConnectionForm(templates[i], forms[i]);
      if (hasErrors(errs)) {
        setConnErrors((prev) => ({ ...prev, [i]: errs }));
        goTo(i);
        return;
      }
    }
    setSubmitting(true);
    setTopErr(null);
    try {
      const choices = templates.map((t, i) => buildConnection(t, forms[i]));
      const activation = loaded?.primary
        ? await backend.activate(loaded.original, choices.slice(1), schema ? vars : {}, choices[0] as NewConnection)
        : await backend.activate(integration, choices, schema ? vars : {});
      postToHost('activated', { activationId: activation.id, integrationId: integration.id, integrationName: integration.name });
      onActivated(activation);
    } catch (e) {
      const top = topError(e);
      if (e instanceof ApiError) {
        const mapped = mapFieldErrors(
          loaded?.primary ? shiftForPrimary(e.body.fields) : e.body.fields,
          templates.map((t) => (t.variables ?? []).map((v) => v.name)),
        );
        top.other = mapped.other;
        if (!backend.namesConnections) for (const errs of Object.values(mapped.connections)) moveNameErrors(errs);
        // Name the user's connections instead of showing their ids.
        for (const [i, errs] of Object.entries(mapped.connections)) {
          const names = (loaded?.existing[Number(i)] ?? []).map((c) => [c.id, `“${c.name}”`] as const);
          for (const list of Object.values(errs)) {
            list?.forEach((m, j) => {
              list[j] = names.reduce((acc, [id, name]) => acc.split(id).join(name), m);
            });
          }
        }
        setConnErrors(mapped.connections);
        setVarErrors(mapped.variables);
        const firstConn = Object.keys(mapped.connections).map(Number).sort((a, b) => a - b)[0];
        if (firstConn !== undefined && firstConn < templates.length) goTo(firstConn);
        else if (mapped.variables && schema) goTo(templates.length);
        if (e.status === 409) onStale();
      }
      setTopErr(top);
      postToHost('error', { operation: 'activate', integrationId: integration.id, code: e instanceof ApiError ? e.body.code : undefined, message: top.message });
    } finally {
      setSubmitting(false);
    }
  };

  const updateForm = (i: number, next: ConnectionFormState, changed: ConnectionFieldKey) => {
    setForms((prev) => prev.map((f, j) => (j === i ? next : f)));
    setConnErrors((prev) => {
      const cur = prev[i];
      if (!cur || (!cur[changed] && !cur.form)) return prev;
      const copy = { ...cur };
      delete copy[changed];
      if (changed === 'existing' || changed === 'name') delete copy.form;
      return { ...prev, [i]: copy };
    });
  };

  const stepTitle = (s: Step): string => {
    if (!integration) return '';
    if (s.kind === 'connection') {
      const t = integration.connectionTemplates[s.index];
      return msg('wizard.connectStep', { name: t.name });
    }
    if (s.kind === 'variables') return msg('wizard.settingsStep');
    return msg('wizard.reviewStep');
  };

  const onSubmitStep = (e: React.FormEvent) => {
    e.preventDefault();
    if (step?.kind === 'review') void activate();
    else next();
  };

  return (
    <Modal
      title={msg('wizard.title', { name: summary.name })}
      onClose={onClose}
      testId="wizard"
      headerExtra={<IntegrationIcon name={summary.name} imageUrl={summary.imageUrl} size={32} />}
    >
      {loadError ? <ErrorMessage error={loadError} onRetry={load.reload} /> : null}
      {!loaded && !loadError ? <Spinner label={msg('loading')} /> : null}
      {integration && step ? (
        <>
          <ol className="sy-steps" aria-label={msg('wizard.stepsLabel')}>
            {steps.map((s, i) => (
              <li
                key={i}
                className={i === stepIndex ? 'sy-steps__item sy-steps__item--current' : i < stepIndex ? 'sy-steps__item sy-steps__item--done' : 'sy-steps__item'}
                aria-current={i === stepIndex ? 'step' : undefined}
              >
                <span className="sy-steps__number" aria-hidden="true">
                  {i + 1}
                </span>
                <span className="sy-steps__label">{stepTitle(s)}</span>
              </li>
            ))}
          </ol>
          <ErrorMessage error={topErr} />
          <div
            className="sy-step"
            data-testid={step.kind === 'connection' ? `step-connection-${step.index}` : `step-${step.kind}`}
            data-step-index={stepIndex}
          >
            <h3 className="sy-step__title" ref={headingRef} tabIndex={-1}>
              <span className="sy-visually-hidden">
                Step {stepIndex + 1} of {steps.length}:{' '}
              </span>
              {stepTitle(step)}
            </h3>
            {step.kind === 'variables' && schema ? (
              <>
                <p className="sy-muted">{msg('wizard.settingsIntro', { name: integration.name })}</p>
                <VariablesFormSuspense>
                  <LazyVariablesForm
                    ref={varsRef}
                    schema={schema}
                    formData={vars}
                    onChange={(data, id) => {
                      setVars(data);
                      setVarErrors((prev) => clearVariableError(prev, id));
                    }}
                    onSubmit={next}
                    extraErrors={varErrors}
                    disabled={submitting}
                  />
                </VariablesFormSuspense>
              </>
            ) : (
              <form onSubmit={onSubmitStep} noValidate id="sy-wizard-step-form">
                {step.kind === 'connection' ? (
                  <>
                    {integration.connectionTemplates[step.index].isPrimary ? (
                      <p className="sy-muted">{msg('wizard.primaryHint', { name: integration.connectionTemplates[step.index].name })}</p>
                    ) : null}
                    <ConnectionForm
                      key={step.index}
                      template={integration.connectionTemplates[step.index]}
                      form={forms[step.index]}
                      existing={loaded!.existing[step.index]}
                      errors={connErrors[step.index]}
                      onChange={(f, changed) => updateForm(step.index, f, changed)}
                      namesConnections={backend.namesConnections}
                    />
                  </>
                ) : (
                  <Review
                    integration={integration}
                    forms={forms}
                    existing={loaded!.existing}
                    vars={vars}
                    onEdit={goTo}
                    stepsBeforeReview={steps.length - 1}
                    namesConnections={backend.namesConnections}
                  />
                )}
                {/* Enter in a field moves on. */}
                <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
              </form>
            )}
          </div>
          <div className="sy-actions">
            {stepIndex > 0 ? (
              <button type="button" className="sy-button sy-button--secondary" onClick={back} disabled={submitting} data-testid="back">
                {msg('wizard.back')}
              </button>
            ) : (
              <button type="button" className="sy-button sy-button--secondary" onClick={onClose} data-testid="cancel">
                {msg('wizard.cancel')}
              </button>
            )}
            <span className="sy-actions__spacer" />
            {step.kind === 'review' ? (
              <button type="button" className="sy-button sy-button--primary" onClick={() => void activate()} disabled={submitting} aria-busy={submitting || undefined} data-testid="activate">
                {submitting ? msg('wizard.activating') : msg('wizard.activate')}
              </button>
            ) : (
              <button type="button" className="sy-button sy-button--primary" onClick={next} data-testid="next">
                {msg('wizard.next')}
              </button>
            )}
          </div>
        </>
      ) : null}
    </Modal>
  );
}

function Review({
  integration,
  forms,
  existing,
  vars,
  onEdit,
  namesConnections,
}: {
  integration: EmbeddedIntegration;
  forms: ConnectionFormState[];
  existing: ConnectionSummary[][];
  vars: Record<string, unknown>;
  onEdit: (step: number) => void;
  stepsBeforeReview: number;
  namesConnections: boolean;
}) {
  const schema = hasSettings(integration.variablesSchema) ? integration.variablesSchema : null;
  return (
    <div className="sy-review">
      <p className="sy-muted">{msg('review.intro', { name: integration.name })}</p>
      <h4 className="sy-review__heading">{msg('review.connections')}</h4>
      <ul className="sy-review__list">
        {integration.connectionTemplates.map((t, i) => {
          const f = forms[i];
          const text =
            f.mode === 'existing'
              ? msg('review.existing', { name: existing[i].find((c) => c.id === f.existingId)?.name ?? f.existingId })
              : namesConnections
                ? msg('review.newNamed', { name: f.name, scheme: describeScheme(t.authSchemeConfig) })
                : msg('review.new', { scheme: describeScheme(t.authSchemeConfig) });
          return (
            <li key={t.id} className="sy-review__item" data-testid={`review-connection-${i}`}>
              <IntegrationIcon name={t.name} imageUrl={t.imageUrl} size={24} />
              <span className="sy-review__text">
                <strong>{t.name}</strong>
                <span>{text}</span>
              </span>
              <button type="button" className="sy-link-button" onClick={() => onEdit(i)} aria-label={msg('review.changeLabel', { name: t.name })}>
                {msg('review.change')}
              </button>
            </li>
          );
        })}
      </ul>
      {schema ? (
        <>
          <h4 className="sy-review__heading">{msg('review.settings')}</h4>
          <VariablesSummary values={vars} schema={schema} testId="review-variables" />
          <button type="button" className="sy-link-button" onClick={() => onEdit(integration.connectionTemplates.length)}>
            {msg('review.changeSettings')}
          </button>
        </>
      ) : null}
    </div>
  );
}

