import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, describeError, NetworkError } from './api';
import { ErrorMessage, IntegrationIcon, Spinner } from './components/common';
import { ManageView } from './components/ManageView';
import { Modal } from './components/Modal';
import { SavedConnections } from './components/SavedConnections';
import { Wizard, topError } from './components/Wizard';
import { createBackend, ServicesContext, type AppServices } from './context';
import type { AnyHubContext } from './fragment';
import { postToHost, watchSize } from './host';
import { filterIntegrations } from './search';
import type { IntegrationSummary } from './types';
import { useLoad } from './useLoad';
import { t } from './messages';

type Dialog = { kind: 'wizard' | 'manage'; integration: IntegrationSummary; reconnect?: string } | { kind: 'saved' } | null;

export function App({ context }: { context: AnyHubContext }) {
  const services: AppServices = useMemo(() => ({ backend: createBackend(context), context }), [context]);
  const { backend } = services;
  // A reload (after a change) keeps the grid on screen until the new list arrives.
  const list = useLoad(
    useCallback(async () => {
      const res = await backend.listIntegrations();
      // Connections an activation uses whose credentials can no longer be used: their tiles need
      // attention, and open on reconnecting the template they serve (integration → template).
      const attention: Record<string, string> = {};
      if (res.totalConnected > 0) {
        for (const c of (await backend.listSavedConnections()) ?? []) {
          if (c.needsAttention) for (const u of c.usedBy) attention[u.integrationId] ??= u.templateId;
        }
      }
      return { ...res, attention };
    }, [backend]),
    {
      keepData: true,
      onError: (e) => postToHost('error', { operation: 'list-integrations', message: describeError(e), network: e instanceof NetworkError }),
    },
  );
  const integrations = list.data?.integrations ?? null;
  const totalConnected = list.data?.totalConnected ?? 0;
  const attention = list.data?.attention ?? {};
  const loadError = list.status === 'failed' ? topError(list.error) : null;
  // An ended session cannot be retried with the same token: the page says what to do and offers
  // nothing else (no search, no retry).
  const ended = list.status === 'failed' && list.error instanceof ApiError && list.error.status === 401;
  const load = list.reload;
  const [query, setQuery] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const focusTile = useRef<string | null>(null);

  useEffect(() => watchSize(rootRef.current!, (el) => el.getBoundingClientRect().height), []);

  // Focus goes back to the tile that opened a dialog once it has closed.
  useEffect(() => {
    if (!dialog && focusTile.current) {
      const id = focusTile.current;
      focusTile.current = null;
      document.querySelector<HTMLElement>(`[data-testid="tile-${CSS.escape(id)}"]`)?.focus();
    }
  }, [dialog, integrations]);

  const open = (integration: IntegrationSummary) => {
    setNotice(null);
    setDialog({ kind: integration.isActivated ? 'manage' : 'wizard', integration, reconnect: integration.isActivated ? attention[integration.id] : undefined });
  };

  const close = (reason: 'closed' | 'done') => {
    if (!dialog) return;
    if (dialog.kind === 'saved') {
      setDialog(null);
      requestAnimationFrame(() => document.querySelector<HTMLElement>('[data-testid="open-saved-connections"]')?.focus());
      return;
    }
    focusTile.current = dialog.integration.id;
    if (reason === 'closed') postToHost('closed', { integrationId: dialog.integration.id, view: dialog.kind });
    setDialog(null);
  };

  const shown = integrations ? filterIntegrations(integrations, query) : [];

  return (
    <ServicesContext.Provider value={services}>
      <div className="sy-app" ref={rootRef} data-testid="hub">
        <header className="sy-header">
          <div>
            <h1 className="sy-title">{t('grid.title')}</h1>
            {integrations ? (
              <p className="sy-count" data-testid="connected-count" aria-live="polite">
                {t('grid.count', { connected: totalConnected, total: integrations.length })}
              </p>
            ) : null}
            {integrations && backend.kind === 'v1' ? (
              <button type="button" className="sy-link-button" onClick={() => setDialog({ kind: 'saved' })} aria-haspopup="dialog" data-testid="open-saved-connections">
                {t('grid.savedConnections')}
              </button>
            ) : null}
          </div>
          {ended ? null : (
            <div className="sy-search">
              <label htmlFor="sy-search" className="sy-visually-hidden">
                {t('grid.search')}
              </label>
              <svg className="sy-search__icon" aria-hidden="true" width="16" height="16" viewBox="0 0 16 16">
                <circle cx="7" cy="7" r="5" fill="none" stroke="currentColor" strokeWidth="1.6" />
                <path d="M11 11l3.5 3.5" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
              </svg>
              <input
                id="sy-search"
                type="search"
                placeholder={t('grid.search')}
                autoComplete="off"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
                data-testid="search"
              />
            </div>
          )}
        </header>

        {notice ? (
          <div className="sy-alert sy-alert--success" role="status" data-testid="success-message">
            <span>{notice}</span>
            <button type="button" className="sy-icon-button" aria-label={t('notice.dismiss')} onClick={() => setNotice(null)}>
              <svg aria-hidden="true" width="16" height="16" viewBox="0 0 20 20">
                <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
              </svg>
            </button>
          </div>
        ) : null}

        {ended ? (
          <div className="sy-alert sy-alert--error" role="alert" data-testid="load-error" data-session-ended="true">
            <p className="sy-alert__title">{t('session.ended')}</p>
          </div>
        ) : loadError ? (
          <div data-testid="load-error">
            <ErrorMessage error={loadError} onRetry={load} />
          </div>
        ) : null}
        {!integrations && !loadError ? <Spinner label={t('grid.loading')} /> : null}

        {integrations ? (
          shown.length ? (
            <ul className="sy-grid" aria-label={t('grid.listLabel')}>
              {shown.map((i) => (
                <li key={i.id}>
                  <button
                    type="button"
                    className={`sy-tile${i.isActivated ? ' sy-tile--connected' : ''}`}
                    onClick={() => open(i)}
                    aria-haspopup="dialog"
                    data-testid={`tile-${i.id}`}
                    data-activated={i.isActivated ? 'true' : 'false'}
                  >
                    <span className="sy-tile__top">
                      <IntegrationIcon name={i.name} imageUrl={i.imageUrl} size={40} />
                      {i.isActivated && attention[i.id] ? (
                        <span className="sy-badge sy-badge--warning" data-testid="needs-attention">
                          {t('tile.needsAttention')}
                        </span>
                      ) : i.isActivated ? (
                        <span className="sy-badge" data-testid="connected-badge">
                          {t('tile.connected')}
                        </span>
                      ) : null}
                    </span>
                    <span className="sy-tile__name">{i.name}</span>
                    {i.description ? <span className="sy-tile__description">{i.description}</span> : null}
                    <span className="sy-tile__action" aria-hidden="true">
                      {i.isActivated && attention[i.id] ? t('tile.reconnect') : i.isActivated ? t('tile.manage') : t('tile.connect')} →
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="sy-empty" data-testid="empty-state">
              {integrations.length === 0 ? t('grid.empty') : t('grid.noMatch', { query: query.trim() })}
            </p>
          )
        ) : null}
      </div>

      {dialog?.kind === 'wizard' ? (
        <Wizard
          key={dialog.integration.id}
          summary={dialog.integration}
          onClose={() => close('closed')}
          onStale={load}
          onActivated={() => {
            setNotice(t('notice.connected', { name: dialog.integration.name }));
            close('done');
            load();
          }}
        />
      ) : null}
      {dialog?.kind === 'saved' ? (
        <Modal title={t('grid.savedConnections')} onClose={() => close('closed')} testId="saved-dialog">
          <SavedConnections onChanged={load} />
        </Modal>
      ) : null}
      {dialog?.kind === 'manage' ? (
        <ManageView
          key={dialog.integration.id}
          summary={dialog.integration}
          reconnect={dialog.reconnect}
          onClose={() => close('closed')}
          onChanged={load}
          onDeactivated={() => {
            setNotice(t('notice.deactivated', { name: dialog.integration.name }));
            close('done');
            load();
          }}
        />
      ) : null}
    </ServicesContext.Provider>
  );
}

/** Shown when the fragment lacks what the page needs. */
export function MissingContext({ missing, problem, v2 = false }: { missing: string[]; problem?: string; v2?: boolean }) {
  return (
    <div className="sy-app" data-testid="hub">
      <div className="sy-alert sy-alert--error" role="alert" data-testid="load-error">
        <p className="sy-alert__title">{t('page.needsSession')}</p>
        {problem ? <p>{t('page.problem', { problem })}</p> : null}
        {missing.length ? (
          <p>
            {t('page.missing', { missing: missing.join(', ') })}{' '}
            {v2 ? <code>#jwt=…&amp;org=…</code> : <code>#token=…&amp;hub=…&amp;user=…</code>}.
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** Shown when the address names another organisation than the session's: the page does not run. */
export function WrongOrganisation() {
  return (
    <div className="sy-app" data-testid="hub">
      <div className="sy-alert sy-alert--error" role="alert" data-testid="wrong-organisation">
        <p className="sy-alert__title">{t('page.wrongOrganisation')}</p>
        <p>{t('page.wrongOrganisationWhy')}</p>
      </div>
    </div>
  );
}

/** Shown when the session's organisation could not be checked (the server could not be reached). */
export function OrganisationUnknown({ onRetry }: { onRetry: () => void }) {
  return (
    <div className="sy-app" data-testid="hub">
      <div data-testid="load-error">
        <ErrorMessage error={{ kind: 'network', message: t('error.sessionCheck') }} onRetry={onRetry} />
      </div>
    </div>
  );
}
