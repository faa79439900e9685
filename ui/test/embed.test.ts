// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { acceptHubMessage, frameUrl, isHubMessage, mount, setFragmentParam } from '../src/embed';

const HUB = 'https://sy.example';
const SESSION = `${HUB}/hub/#token=tok&hub=hub_1&user=alice`;

describe('frameUrl', () => {
  test('adds the host origin (and theme) to the fragment, keeping the session', () => {
    const url = frameUrl(SESSION, 'https://app.example.com', { '--sy-color-primary': '#123456' });
    expect(url.origin).toBe(HUB);
    expect(url.pathname).toBe('/hub/');
    const params = new URLSearchParams(url.hash.slice(1));
    expect(params.get('token')).toBe('tok');
    expect(params.get('hub')).toBe('hub_1');
    expect(params.get('user')).toBe('alice');
    expect(params.get('origin')).toBe('https://app.example.com');
    expect(JSON.parse(params.get('theme')!)).toEqual({ '--sy-color-primary': '#123456' });
  });

  test('v1: leaves the query as the server made it', () => {
    expect(frameUrl(`${HUB}/hub/?o=org_1#token=tok&hub=hub_1&user=alice`, 'https://app.example.com').search).toBe('?o=org_1');
    expect(frameUrl(SESSION, 'https://app.example.com').search).toBe('');
  });

  test('v2: adds o from the fragment org when the URL lacks it (the organisation framing policy)', () => {
    const url = frameUrl(`${HUB}/hub/#jwt=a.b.c&org=org_1`, 'https://app.example.com');
    expect(url.pathname + url.search).toBe('/hub/?o=org_1');
    expect(new URLSearchParams(url.hash.slice(1)).get('org')).toBe('org_1');
    expect(frameUrl(`${HUB}/hub/?o=org_1#jwt=a.b.c&org=org_1`, 'https://app.example.com').search).toBe('?o=org_1');
    // An o the host already put there is the host's: the page refuses to run if it is not the token's.
    expect(frameUrl(`${HUB}/hub/?o=org_2#jwt=a.b.c&org=org_1`, 'https://app.example.com').search).toBe('?o=org_2');
  });

  test('replaces an origin already in the fragment instead of adding a second one', () => {
    expect(setFragmentParam('#token=t&origin=https%3A%2F%2Fevil.example&user=u', 'origin', 'https://app.example.com')).toBe(
      '#token=t&user=u&origin=https%3A%2F%2Fapp.example.com',
    );
  });
});

describe('acceptHubMessage', () => {
  const frame = {} as Window;
  const good = { origin: HUB, source: frame, data: { source: 'switchyard', type: 'activated', payload: { activationId: 'a1' } } };

  test('accepts the hub page from its own iframe', () => {
    expect(acceptHubMessage(good, HUB, frame)).toEqual({ type: 'activated', payload: { activationId: 'a1' } });
  });
  test('refuses another origin', () => {
    expect(acceptHubMessage({ ...good, origin: 'https://evil.example' }, HUB, frame)).toBeNull();
    expect(acceptHubMessage({ ...good, origin: 'null' }, 'null', frame)).toBeNull();
  });
  test('refuses another window, or none', () => {
    expect(acceptHubMessage({ ...good, source: {} as Window }, HUB, frame)).toBeNull();
    expect(acceptHubMessage({ ...good, source: null }, HUB, null)).toBeNull();
  });
  test('refuses other messages', () => {
    expect(acceptHubMessage({ ...good, data: { type: 'activated' } }, HUB, frame)).toBeNull();
    expect(acceptHubMessage({ ...good, data: 'activated' }, HUB, frame)).toBeNull();
    expect(isHubMessage({ source: 'switchyard', type: 1 })).toBe(false);
  });
});

describe('mount', () => {
  // happy-dom loads no iframe page and says so on the console: expected here.
  beforeEach(() => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    document.body.innerHTML = '';
  });

  function setup(onEvent = vi.fn()) {
    const el = document.createElement('div');
    document.body.appendChild(el);
    const m = mount(el, { url: SESSION, onEvent, title: 'My integrations', initialHeight: 300 });
    const frameWindow = {} as Window;
    Object.defineProperty(m.iframe, 'contentWindow', { value: frameWindow, configurable: true });
    return { el, m, frameWindow, onEvent };
  }

  test('creates the iframe with the host origin in its fragment', () => {
    const { el, m } = setup();
    expect(el.querySelector('iframe')).toBe(m.iframe);
    expect(m.iframe.title).toBe('My integrations');
    expect(m.iframe.style.height).toBe('300px');
    const src = new URL(m.iframe.src);
    expect(src.origin).toBe(HUB);
    expect(new URLSearchParams(src.hash.slice(1)).get('origin')).toBe(window.location.origin);
  });

  test('relays events from the hub only, and resizes the iframe', () => {
    const { el, m, frameWindow, onEvent } = setup();
    const seen: unknown[] = [];
    el.addEventListener('switchyard:activated', (e) => seen.push((e as CustomEvent).detail));
    const post = (origin: string, source: unknown, data: unknown) =>
      window.dispatchEvent(new MessageEvent('message', { origin, source: source as Window, data }));

    post('https://evil.example', frameWindow, { source: 'switchyard', type: 'activated', payload: { x: 1 } });
    post(HUB, {}, { source: 'switchyard', type: 'activated', payload: { x: 2 } });
    expect(onEvent).not.toHaveBeenCalled();

    post(HUB, frameWindow, { source: 'switchyard', type: 'activated', payload: { activationId: 'a1' } });
    expect(onEvent).toHaveBeenCalledWith('activated', { activationId: 'a1' });
    expect(seen).toEqual([{ activationId: 'a1' }]);

    post(HUB, frameWindow, { source: 'switchyard', type: 'resize', payload: { height: 612.4 } });
    expect(m.iframe.style.height).toBe('613px');
    post(HUB, frameWindow, { source: 'switchyard', type: 'resize', payload: { height: 'lots' } });
    expect(m.iframe.style.height).toBe('613px');

    expect(onEvent).toHaveBeenCalledTimes(3);
    m.unmount();
    expect(el.querySelector('iframe')).toBeNull();
    post(HUB, frameWindow, { source: 'switchyard', type: 'deactivated', payload: {} });
    expect(onEvent).toHaveBeenCalledTimes(3);
  });

  test('refuses bad arguments', () => {
    const el = document.createElement('div');
    expect(() => mount(el, { url: '' })).toThrow(TypeError);
    expect(() => mount(el, { url: 'javascript:alert(1)' })).toThrow(/http/);
    expect(() => mount(null as unknown as HTMLElement, { url: SESSION })).toThrow(TypeError);
  });
});
