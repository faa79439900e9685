/** The OAuth2 authorization-code popup flow. */
import { t } from './messages';
import type { AuthSchemeConfig } from './types';

export type CallbackResult = { ok: true; code: string; state: string } | { ok: false; error: string; description?: string };

/** Reads `state` from the authorize URL the server built; throws when it has none. */
export function stateFromAuthorizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(t('oauth.badUrl'));
  }
  const state = parsed.searchParams.get('state');
  if (!state) throw new Error(t('oauth.noState'));
  return state;
}

/** Parses the query string the provider redirected to the callback page with. */
export function parseCallbackSearch(search: string): CallbackResult {
  const params = new URLSearchParams(search.replace(/^\?/, ''));
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description') ?? undefined;
    return { ok: false, error, description };
  }
  const code = params.get('code');
  const state = params.get('state');
  if (!code || !state) return { ok: false, error: 'invalid_response', description: t('oauth.noCode') };
  return { ok: true, code, state };
}

/** The body of `POST /embed/{hub}/connector/{connectorId}/oauth2/initialise` for a scheme. */
export function initialiseBody(scheme: AuthSchemeConfig): Record<string, unknown> {
  if (scheme.schemeType !== 'oauth2' || scheme.grant.grantType !== 'authorization_code') {
    throw new Error('Not an OAuth2 authorization-code scheme.');
  }
  const grant = scheme.grant;
  const hasOffline = (scheme.scopes ?? []).some((s) => s.name === 'offline_access');
  const body: Record<string, unknown> = {
    credential: { id: grant.credentialId, organisationId: grant.organisationId },
    authorizeUrl: scheme.authorizeUrl,
    clientId: grant.clientId,
    scopes: scheme.defaultScopes ?? [],
    prompt: 'consent',
    disableOfflineAccess: hasOffline,
  };
  if (scheme.additionalAuthorizeParams) body.additionalParams = scheme.additionalAuthorizeParams;
  return body;
}

/** Window features for a popup of `width`×`height` centred on the current window. */
export function centredPopupFeatures(win: Pick<Window, 'screenX' | 'screenY' | 'outerWidth' | 'outerHeight'>, width = 800, height = 600): string {
  const left = Math.max(0, Math.round(win.screenX + (win.outerWidth - width) / 2));
  const top = Math.max(0, Math.round(win.screenY + (win.outerHeight - height) / 2));
  return `popup=yes,width=${width},height=${height},left=${left},top=${top}`;
}

export class OAuthCancelled extends Error {
  constructor() {
    super(t('oauth.cancelled'));
    this.name = 'OAuthCancelled';
  }
}

export class OAuthFailed extends Error {
  constructor(
    public readonly error: string,
    public readonly description?: string,
  ) {
    super(description ? `Sign-in failed: ${description} (${error})` : `Sign-in failed: ${error}`);
    this.name = 'OAuthFailed';
  }
}

/** Whether `data` is the callback page's `{type: "response", payload: {search}}`. */
export function isCallbackResponse(data: unknown): data is { type: 'response'; payload: { search: string } } {
  if (!data || typeof data !== 'object') return false;
  const d = data as { type?: unknown; payload?: unknown };
  if (d.type !== 'response' || !d.payload || typeof d.payload !== 'object') return false;
  return typeof (d.payload as { search?: unknown }).search === 'string';
}

export interface PopupFlowOptions {
  /** Asks the server for the authorize URL. */
  initialise: () => Promise<string>;
  /** The page's own window (tests pass a stand-in). */
  win?: Window;
  pollMs?: number;
}

export interface PopupFlow {
  result: Promise<{ code: string; state: string }>;
  /** Stops waiting (closes the popup). */
  cancel: () => void;
}

/**
 * Runs the popup flow. The popup is opened at once (inside the click that started it, so no popup
 * blocker stops it) and sent to the authorize URL when the server answers. Every `pollMs` the page
 * posts `{type: "hello", payload: {state}}` to it, for the hosted callback page on this origin; the
 * callback page answers with `{type: "response", payload: {search}}`.
 */
export function startPopupFlow(options: PopupFlowOptions): PopupFlow {
  const win = options.win ?? window;
  const pollMs = options.pollMs ?? 500;
  const origin = win.location.origin;
  let popup: Window | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let done = false;
  let onMessage: ((e: MessageEvent) => void) | undefined;
  let rejectFn: ((e: Error) => void) | undefined;

  const cleanup = () => {
    done = true;
    if (timer !== undefined) clearInterval(timer);
    if (onMessage) win.removeEventListener('message', onMessage);
    try {
      if (popup && !popup.closed) popup.close();
    } catch {
      /* a closed or foreign window */
    }
  };

  const result = new Promise<{ code: string; state: string }>((resolve, reject) => {
    rejectFn = (e) => {
      if (done) return;
      cleanup();
      reject(e);
    };
    popup = win.open('about:blank', 'switchyard-oauth', centredPopupFeatures(win));
    if (!popup) {
      rejectFn(new Error(t('oauth.blocked')));
      return;
    }
    options
      .initialise()
      .then((url) => {
        if (done) return;
        const state = stateFromAuthorizeUrl(url);
        const p = popup as Window;
        if (p.closed) throw new OAuthCancelled();
        p.location.href = url;
        onMessage = (event: MessageEvent) => {
          if (done || event.origin !== origin || event.source !== p || !isCallbackResponse(event.data)) return;
          const parsed = parseCallbackSearch(event.data.payload.search);
          // A response for another flow (an older window) is not ours.
          if (parsed.ok && parsed.state !== state) return;
          if (!parsed.ok) {
            rejectFn?.(new OAuthFailed(parsed.error, parsed.description));
            return;
          }
          cleanup();
          resolve({ code: parsed.code, state: parsed.state });
        };
        win.addEventListener('message', onMessage);
        const tick = () => {
          if (done) return;
          if (p.closed) {
            rejectFn?.(new OAuthCancelled());
            return;
          }
          try {
            p.postMessage({ type: 'hello', payload: { state } }, origin);
          } catch {
            /* not on our origin yet */
          }
        };
        timer = setInterval(tick, pollMs);
      })
      .catch((e: unknown) => rejectFn?.(e instanceof Error ? e : new Error(String(e))));
  });
  return { result, cancel: () => rejectFn?.(new OAuthCancelled()) };
}
