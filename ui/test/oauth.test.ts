import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  centredPopupFeatures,
  initialiseBody,
  isCallbackResponse,
  OAuthCancelled,
  OAuthFailed,
  parseCallbackSearch,
  startPopupFlow,
  stateFromAuthorizeUrl,
} from '../src/oauth';
import type { AuthSchemeConfig } from '../src/types';

const ORIGIN = 'https://sy.example';

describe('helpers', () => {
  test('stateFromAuthorizeUrl', () => {
    expect(stateFromAuthorizeUrl('https://idp.example/authorize?client_id=a&state=xyz%3D&redirect_uri=x')).toBe('xyz=');
    expect(() => stateFromAuthorizeUrl('https://idp.example/authorize?client_id=a')).toThrow(/state/);
    expect(() => stateFromAuthorizeUrl('not a url')).toThrow(/invalid/);
  });

  test('parseCallbackSearch', () => {
    expect(parseCallbackSearch('?code=c1&state=s1')).toEqual({ ok: true, code: 'c1', state: 's1' });
    expect(parseCallbackSearch('?error=access_denied&error_description=User+said+no&state=s1')).toEqual({
      ok: false,
      error: 'access_denied',
      description: 'User said no',
    });
    expect(parseCallbackSearch('?state=s1').ok).toBe(false);
  });

  test('isCallbackResponse', () => {
    expect(isCallbackResponse({ type: 'response', payload: { search: '?code=a' } })).toBe(true);
    expect(isCallbackResponse({ type: 'hello', payload: { state: 'x' } })).toBe(false);
    expect(isCallbackResponse({ type: 'response', payload: { search: 1 } })).toBe(false);
    expect(isCallbackResponse('response')).toBe(false);
    expect(isCallbackResponse(null)).toBe(false);
  });

  test('initialiseBody', () => {
    const scheme: AuthSchemeConfig = {
      id: 'o',
      schemeType: 'oauth2',
      authorizeUrl: 'https://idp.example/authorize',
      tokenUrl: 'https://idp.example/token',
      scopes: [{ name: 'read' }, { name: 'offline_access' }],
      defaultScopes: ['read'],
      additionalAuthorizeParams: 'audience=api',
      grant: { grantType: 'authorization_code', clientId: 'cid', credentialId: 'cred_1', organisationId: 'org_1' },
    };
    expect(initialiseBody(scheme)).toEqual({
      credential: { id: 'cred_1', organisationId: 'org_1' },
      authorizeUrl: 'https://idp.example/authorize',
      clientId: 'cid',
      scopes: ['read'],
      prompt: 'consent',
      disableOfflineAccess: true,
      additionalParams: 'audience=api',
    });
    expect(() => initialiseBody({ id: 'k', schemeType: 'api-key', name: 'k', in: 'header' })).toThrow();
  });

  test('centredPopupFeatures', () => {
    expect(centredPopupFeatures({ screenX: 100, screenY: 50, outerWidth: 1200, outerHeight: 900 }, 800, 600)).toBe(
      'popup=yes,width=800,height=600,left=300,top=200',
    );
    expect(centredPopupFeatures({ screenX: 0, screenY: 0, outerWidth: 300, outerHeight: 300 })).toContain('left=0,top=0');
  });
});

/** A stand-in for the page's window and the popup it opens. */
function fakeWindows(openReturnsNull = false) {
  const listeners = new Set<(e: MessageEvent) => void>();
  const popup = {
    closed: false,
    location: { href: 'about:blank' },
    posted: [] as { data: unknown; targetOrigin: string }[],
    postMessage(data: unknown, targetOrigin: string) {
      this.posted.push({ data, targetOrigin });
    },
    close() {
      this.closed = true;
    },
  };
  const win = {
    location: { origin: ORIGIN },
    screenX: 0,
    screenY: 0,
    outerWidth: 1000,
    outerHeight: 800,
    openedWith: [] as unknown[],
    open(...args: unknown[]) {
      this.openedWith.push(args);
      return openReturnsNull ? null : popup;
    },
    addEventListener(type: string, fn: (e: MessageEvent) => void) {
      if (type === 'message') listeners.add(fn);
    },
    removeEventListener(type: string, fn: (e: MessageEvent) => void) {
      if (type === 'message') listeners.delete(fn);
    },
    dispatch(event: Partial<MessageEvent>) {
      for (const l of [...listeners]) l(event as MessageEvent);
    },
    listeners,
  };
  return { win, popup };
}

const AUTHORIZE = 'https://idp.example/authorize?client_id=cid&state=st-1&redirect_uri=https%3A%2F%2Fsy.example%2Foauth2%2Fcallback';

describe('startPopupFlow', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('opens the popup at once, sends it to the authorize URL, says hello with the state, and resolves with the code', async () => {
    const { win, popup } = fakeWindows();
    const flow = startPopupFlow({ initialise: async () => AUTHORIZE, win: win as unknown as Window, pollMs: 500 });
    expect(win.openedWith).toHaveLength(1);
    expect((win.openedWith[0] as unknown[])[0]).toBe('about:blank');
    await vi.advanceTimersByTimeAsync(0);
    expect(popup.location.href).toBe(AUTHORIZE);
    await vi.advanceTimersByTimeAsync(1000);
    expect(popup.posted.length).toBe(2);
    expect(popup.posted[0]).toEqual({ data: { type: 'hello', payload: { state: 'st-1' } }, targetOrigin: ORIGIN });

    // Ignored: another origin, another window, another state, another shape.
    win.dispatch({ origin: 'https://evil.example', source: popup as unknown as Window, data: { type: 'response', payload: { search: '?code=evil&state=st-1' } } });
    win.dispatch({ origin: ORIGIN, source: {} as Window, data: { type: 'response', payload: { search: '?code=evil&state=st-1' } } });
    win.dispatch({ origin: ORIGIN, source: popup as unknown as Window, data: { type: 'response', payload: { search: '?code=old&state=st-0' } } });
    win.dispatch({ origin: ORIGIN, source: popup as unknown as Window, data: { type: 'hello' } });

    win.dispatch({ origin: ORIGIN, source: popup as unknown as Window, data: { type: 'response', payload: { search: '?code=the-code&state=st-1' } } });
    await expect(flow.result).resolves.toEqual({ code: 'the-code', state: 'st-1' });
    expect(popup.closed).toBe(true);
    expect(win.listeners.size).toBe(0);
    const sent = popup.posted.length;
    await vi.advanceTimersByTimeAsync(2000);
    expect(popup.posted.length).toBe(sent);
  });

  test('a provider error rejects with OAuthFailed', async () => {
    const { win, popup } = fakeWindows();
    const flow = startPopupFlow({ initialise: async () => AUTHORIZE, win: win as unknown as Window });
    await vi.advanceTimersByTimeAsync(0);
    win.dispatch({ origin: ORIGIN, source: popup as unknown as Window, data: { type: 'response', payload: { search: '?error=access_denied&state=st-1' } } });
    await expect(flow.result).rejects.toBeInstanceOf(OAuthFailed);
  });

  test('closing the popup cancels', async () => {
    const { win, popup } = fakeWindows();
    const flow = startPopupFlow({ initialise: async () => AUTHORIZE, win: win as unknown as Window, pollMs: 500 });
    const settled = expect(flow.result).rejects.toBeInstanceOf(OAuthCancelled);
    await vi.advanceTimersByTimeAsync(0);
    popup.closed = true;
    await vi.advanceTimersByTimeAsync(600);
    await settled;
    expect(win.listeners.size).toBe(0);
  });

  test('cancel() closes the popup', async () => {
    const { win, popup } = fakeWindows();
    const flow = startPopupFlow({ initialise: async () => AUTHORIZE, win: win as unknown as Window });
    const settled = expect(flow.result).rejects.toBeInstanceOf(OAuthCancelled);
    await vi.advanceTimersByTimeAsync(0);
    flow.cancel();
    await settled;
    expect(popup.closed).toBe(true);
  });

  test('a blocked popup or a failed initialise rejects, closing what was opened', async () => {
    const blocked = fakeWindows(true);
    await expect(startPopupFlow({ initialise: async () => AUTHORIZE, win: blocked.win as unknown as Window }).result).rejects.toThrow(/pop-ups/);

    const { win, popup } = fakeWindows();
    const flow = startPopupFlow({ initialise: async () => Promise.reject(new Error('403 forbidden')), win: win as unknown as Window });
    await expect(flow.result).rejects.toThrow('403 forbidden');
    expect(popup.closed).toBe(true);

    const noState = fakeWindows();
    const flow2 = startPopupFlow({ initialise: async () => 'https://idp.example/authorize', win: noState.win as unknown as Window });
    await expect(flow2.result).rejects.toThrow(/state/);
  });
});
