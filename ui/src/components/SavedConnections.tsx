import { useCallback, useState } from 'react';
import { describeError } from '../api';
import { useServices } from '../context';
import type { SavedConnection } from '../types';
import { useLoad } from '../useLoad';
import { IntegrationIcon, Spinner } from './common';
import { t } from '../messages';

function usedByText(c: SavedConnection): string {
  if (c.usedBy.length === 0) return t('saved.unused');
  return t('saved.usedBy', { names: [...new Set(c.usedBy.map((u) => u.integrationName))].join(', ') });
}

/**
 * The user's saved connections (their sign-ins to apps), with the integrations that use each;
 * one that nothing uses can be removed (the server refuses, with the reason, while one does).
 * Nothing is shown where the API has no saved connections to list (v2 mode).
 */
export function SavedConnections({ onChanged }: { onChanged?: () => void }) {
  const { backend } = useServices();
  const load = useLoad(useCallback(() => backend.listSavedConnections(), [backend]), { keepData: true });
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});

  if (load.status === 'loaded' && load.data === null) return null;
  const list = load.data ?? null;

  const remove = async (c: SavedConnection) => {
    if (confirming !== c.id) {
      setConfirming(c.id);
      return;
    }
    setBusy(c.id);
    setErrors((prev) => ({ ...prev, [c.id]: '' }));
    try {
      await backend.removeSavedConnection(c.id);
      setConfirming(null);
      load.reload();
      onChanged?.();
    } catch (e) {
      setConfirming(null);
      setErrors((prev) => ({ ...prev, [c.id]: describeError(e) }));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="sy-section" aria-labelledby="sy-saved-connections" data-testid="saved-connections">
      <h3 id="sy-saved-connections" className="sy-section__title">
        {t('saved.title')}
      </h3>
      <p className="sy-muted">{t('saved.intro')}</p>
      {load.status === 'failed' ? <p className="sy-field-error">{describeError(load.error)}</p> : null}
      {!list && load.status !== 'failed' ? <Spinner label={t('loading')} /> : null}
      {list ? (
        list.length ? (
          <ul className="sy-review__list">
            {list.map((c) => (
              <li key={c.id} className="sy-review__item sy-saved" data-testid={`saved-connection-${c.id}`} data-needs-attention={c.needsAttention ? 'true' : 'false'}>
                <IntegrationIcon name={c.connectorName || c.name} imageUrl={c.connectorImageUrl} size={24} />
                <span className="sy-review__text">
                  <strong>{c.name}</strong>
                  <span>
                    {c.connectorName}
                    {c.isPrimary ? ` · ${t('saved.main')}` : ''}
                  </span>
                  <span data-testid="used-by">{usedByText(c)}</span>
                  {c.needsAttention ? (
                    <span className="sy-badge sy-badge--warning" data-testid="needs-attention">
                      {t('tile.needsAttention')}
                    </span>
                  ) : null}
                  {errors[c.id] ? (
                    <span className="sy-field-error" role="alert" data-testid="remove-error">
                      {errors[c.id]}
                    </span>
                  ) : null}
                </span>
                {c.isPrimary ? null : (
                  <button
                    type="button"
                    className={confirming === c.id ? 'sy-button sy-button--danger sy-button--small' : 'sy-button sy-button--secondary sy-button--small'}
                    onClick={() => void remove(c)}
                    disabled={busy === c.id}
                    aria-label={t(confirming === c.id ? 'saved.confirmLabel' : 'saved.removeLabel', { name: c.name })}
                    data-testid="remove-connection"
                  >
                    {busy === c.id ? t('saved.removing') : confirming === c.id ? t('saved.confirm') : t('saved.remove')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p className="sy-muted" data-testid="no-saved-connections">
            {t('saved.none')}
          </p>
        )
      ) : null}
    </section>
  );
}
