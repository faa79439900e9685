/** The hub page's context, passed in the URL fragment. Two modes:
 * - Embedded API v1: `#token=<bearer>&hub=<hubId>&user=<externalId>[&origin=<host origin>][&theme=<JSON>]`;
 * - Platform API v2: `#jwt=<end-user JWT>&org=<organisationId>[&origin=…][&theme=…]`, the user being
 *   the token's `sub` (read, not verified: the server verifies every call). */
export interface HubContext {
  /** Absent in v1 mode. */
  mode?: 'v1';
  token: string;
  hub: string;
  user: string;
  /** The host page's origin, the only target of the events posted to `window.parent`. */
  origin: string | null;
  /** CSS custom properties (`--sy-*`) the host asked for. */
  theme: Record<string, string>;
}

/** The context in Platform API v2 mode. */
export interface HubContextV2 {
  mode: 'v2';
  /** The end user's JWT, sent as `Authorization: JWT <jwt>`. */
  jwt: string;
  /** The organisation's id. */
  org: string;
  /** The end user's externalId: the JWT's `sub`. */
  user: string;
  /** The JWT's `exp` (seconds since the epoch), when it has one. */
  expiresAt: number | null;
  origin: string | null;
  theme: Record<string, string>;
}

export type AnyHubContext = HubContext | HubContextV2;

/** Whether the context is a Platform API v2 one. */
export function isV2(context: AnyHubContext): context is HubContextV2 {
  return context.mode === 'v2';
}

/** A key that changes when the session does. */
export function contextKey(context: AnyHubContext): string {
  return isV2(context) ? `v2|${context.jwt}|${context.org}` : `${context.token}|${context.hub}|${context.user}`;
}

export type FragmentResult =
  | { ok: true; context: AnyHubContext }
  | { ok: false; missing: string[]; /** v2: why the JWT cannot be used. */ problem?: string };

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

/** The claims of a JWT, read without verifying it; null when `jwt` is not a JWT with a JSON payload. */
export function jwtClaims(jwt: string): Record<string, unknown> | null {
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function parseV2(params: URLSearchParams, origin: string | null, theme: Record<string, string>): FragmentResult {
  const jwt = (params.get('jwt') ?? '').trim();
  const org = (params.get('org') ?? '').trim();
  const missing: string[] = [];
  if (!jwt) missing.push('jwt');
  if (!org) missing.push('org');
  if (missing.length) return { ok: false, missing };
  const claims = jwtClaims(jwt);
  if (!claims) return { ok: false, missing: [], problem: 'The jwt parameter is not a JSON Web Token.' };
  const sub = claims.sub;
  if (typeof sub !== 'string' || !sub) return { ok: false, missing: [], problem: 'The token names no end user (its sub claim is missing).' };
  const exp = typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : null;
  return { ok: true, context: { mode: 'v2', jwt, org, user: sub, expiresAt: exp, origin, theme } };
}

/** Parses a URL fragment (with or without its leading `#`). With `jwt` or `org` in it, the page
 * works in Platform API v2 mode; otherwise in Embedded API v1 mode. */
export function parseFragment(hash: string): FragmentResult {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  if (params.has('jwt') || params.has('org')) return parseV2(params, normaliseOrigin(params.get('origin')), parseTheme(params.get('theme')));
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
