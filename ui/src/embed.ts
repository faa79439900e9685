/**
 * embed.js: mounts the Switchyard integration hub in an iframe on a host page.
 *
 *   <script src="https://switchyard.example.com/embed.js"></script>
 *   <script>
 *     const hub = Switchyard.mount(document.getElementById('integrations'), {
 *       // https://switchyard.example.com/hub/#token=...&hub=...&user=... (Embedded API v1), or
 *       // https://switchyard.example.com/hub/#jwt=<end-user JWT>&org=<organisationId> (Platform API v2)
 *       url: sessionUrl,
 *       onEvent: (type, payload) => console.log(type, payload),
 *     });
 *     // later: hub.unmount();
 *   </script>
 */

export type SwitchyardEventType = 'activated' | 'deactivated' | 'closed' | 'error' | 'resize';

export interface MountOptions {
  /** The session URL: `<server>/hub/#token=...&hub=...&user=...`, or `<server>/hub/#jwt=...&org=...`. */
  url: string;
  /** Called with every event of the hub page. */
  onEvent?: (type: SwitchyardEventType | string, payload: unknown) => void;
  /** CSS custom properties for the hub page, e.g. `{"--sy-color-primary": "#0b6e4f"}`. */
  theme?: Record<string, string>;
  /** The page's words by key (see the hub page's `messages.ts`), e.g. `{"grid.title": "Apps"}`:
   * any of them may be replaced, to match the host's voice or language. */
  messages?: Record<string, string>;
  /** The iframe's accessible title (default "Integrations"). */
  title?: string;
  /** The iframe's height until the page reports its own (default 480px). */
  initialHeight?: number;
}

export interface Mounted {
  unmount: () => void;
  /** The iframe element. */
  iframe: HTMLIFrameElement;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Adds (or replaces) `key=value` in a URL fragment, leaving the rest of it as it is. */
export function setFragmentParam(hash: string, key: string, value: string): string {
  const parts = hash
    .replace(/^#/, '')
    .split('&')
    .filter((p) => p && safeDecode(p.split('=')[0]) !== key);
  parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return `#${parts.join('&')}`;
}

/** A parameter of a URL fragment (`#a=1&b=2`), or null. */
export function fragmentParam(hash: string, key: string): string | null {
  return new URLSearchParams(hash.replace(/^#/, '')).get(key);
}

/**
 * The iframe's URL: the session URL with the host's origin (and theme) added to its fragment. In
 * Platform API v2 mode (`#jwt=…&org=…`) the organisation goes into the query as `?o=` when the URL
 * lacks it: the server then serves the page with that organisation's framing policy.
 */
export function frameUrl(sessionUrl: string, hostOrigin: string, theme?: Record<string, string>, messages?: Record<string, string>): URL {
  const url = new URL(sessionUrl, typeof location !== 'undefined' ? location.href : undefined);
  const org = fragmentParam(url.hash, 'org');
  if (org && !url.searchParams.get('o')) url.searchParams.set('o', org);
  let hash = setFragmentParam(url.hash, 'origin', hostOrigin);
  if (theme && Object.keys(theme).length) hash = setFragmentParam(hash, 'theme', JSON.stringify(theme));
  if (messages && typeof messages === 'object' && Object.keys(messages).length) hash = setFragmentParam(hash, 'messages', JSON.stringify(messages));
  url.hash = hash;
  return url;
}

/** Whether `data` is a message of the hub page. */
export function isHubMessage(data: unknown): data is { source: 'switchyard'; type: string; payload: unknown } {
  return !!data && typeof data === 'object' && (data as { source?: unknown }).source === 'switchyard' && typeof (data as { type?: unknown }).type === 'string';
}

/**
 * The hub page's message in `event`, or null when the event must be ignored: it must come from the
 * iframe's own window (`frameWindow`), from the hub's origin, and have the hub's message shape.
 */
export function acceptHubMessage(
  event: Pick<MessageEvent, 'origin' | 'source' | 'data'>,
  frameOrigin: string,
  frameWindow: Window | null,
): { type: string; payload: unknown } | null {
  if (!frameWindow || event.source !== frameWindow) return null;
  if (!frameOrigin || frameOrigin === 'null' || event.origin !== frameOrigin) return null;
  if (!isHubMessage(event.data)) return null;
  return { type: event.data.type, payload: event.data.payload };
}

export function mount(element: HTMLElement, options: MountOptions): Mounted {
  if (!element || typeof element.appendChild !== 'function') throw new TypeError('Switchyard.mount: the first argument must be an element');
  if (!options || typeof options.url !== 'string' || !options.url) throw new TypeError('Switchyard.mount: options.url (the session URL) is required');
  const url = frameUrl(options.url, window.location.origin, options.theme, options.messages);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('Switchyard.mount: options.url must be an http(s) URL');
  const frameOrigin = url.origin;

  const iframe = document.createElement('iframe');
  iframe.src = url.toString();
  iframe.title = options.title ?? 'Integrations';
  iframe.setAttribute('allow', 'clipboard-write');
  iframe.style.cssText = `display:block;width:100%;border:0;height:${options.initialHeight ?? 480}px;color-scheme:normal;`;

  const onMessage = (event: MessageEvent) => {
    const message = acceptHubMessage(event, frameOrigin, iframe.contentWindow);
    if (!message) return;
    const { type, payload } = message;
    if (type === 'resize') {
      const height = Number((payload as { height?: unknown } | null)?.height);
      if (Number.isFinite(height) && height > 0) iframe.style.height = `${Math.ceil(height)}px`;
    }
    try {
      options.onEvent?.(type, payload);
    } finally {
      element.dispatchEvent(new CustomEvent(`switchyard:${type}`, { detail: payload, bubbles: true }));
    }
  };
  window.addEventListener('message', onMessage);
  element.appendChild(iframe);

  let mounted = true;
  return {
    iframe,
    unmount() {
      if (!mounted) return;
      mounted = false;
      window.removeEventListener('message', onMessage);
      iframe.remove();
    },
  };
}

export const version = '1';
