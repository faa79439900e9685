/** The hub page's context, passed in the URL fragment:
 * `#token=<bearer>&hub=<hubId>&user=<externalId>[&origin=<host origin>][&theme=<JSON>]`. */
export interface HubContext {
  token: string;
  hub: string;
  user: string;
  /** The host page's origin, the only target of the events posted to `window.parent`. */
  origin: string | null;
  /** CSS custom properties (`--sy-*`) the host asked for. */
  theme: Record<string, string>;
}

export type FragmentResult = { ok: true; context: HubContext } | { ok: false; missing: string[] };

/** Normalises an origin (`https://app.example.com`), or null when `value` is not one. */
export function normaliseOrigin(value: string | null | undefined): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.origin === 'null') return null;
  // An origin has no path, query or fragment: refuse anything that is more than one.
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return null;
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/?$/i.test(value)) return null;
  return url.origin;
}

const THEME_KEY = /^--sy-[a-z0-9-]{1,40}$/;
// A custom property value that cannot break out of its declaration.
const THEME_VALUE = /^[^;{}<>\\]{1,200}$/;

/** Parses the `theme` parameter: a JSON object of `--sy-*` custom properties. Anything else is dropped. */
export function parseTheme(raw: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return out;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = k.startsWith('--') ? k : `--sy-${k}`;
    if (THEME_KEY.test(key) && (typeof v === 'string' || typeof v === 'number') && THEME_VALUE.test(String(v))) {
      out[key] = String(v);
    }
  }
  return out;
}

/** Parses a URL fragment (with or without its leading `#`). */
export function parseFragment(hash: string): FragmentResult {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = (params.get('token') ?? '').trim();
  const hub = (params.get('hub') ?? '').trim();
  const user = params.get('user') ?? '';
  const missing: string[] = [];
  if (!token) missing.push('token');
  if (!hub) missing.push('hub');
  if (!user) missing.push('user');
  if (missing.length) return { ok: false, missing };
  return {
    ok: true,
    context: { token, hub, user, origin: normaliseOrigin(params.get('origin')), theme: parseTheme(params.get('theme')) },
  };
}
