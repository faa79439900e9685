/**
 * The organisation check that comes before anything else. The server serves the page with the
 * framing policy (CSP `frame-ancestors`) of the organisation the URL's `?o=` names, so the page
 * must only run for that organisation's token: otherwise a token of one organisation could be
 * framed under another's (or no) policy. So:
 * - `o` present and the token's organisation: run;
 * - `o` present and another organisation: refuse, showing why;
 * - `o` absent: reload with `o` = the token's organisation (once), so that its policy applies
 *   whatever URL the host used.
 * The token's organisation: v2, the fragment's `org` (every call names it, and the server refuses
 * a token of another organisation); v1, the server's answer to `GET /api/embedded/v1/session`.
 */
import { Api, ApiError } from './api';
import { isV2, type AnyHubContext } from './fragment';

/** The organisation the page's URL names (`?o=`), or null. */
export function urlOrganisation(search: string): string | null {
  const o = new URLSearchParams(search.replace(/^\?/, '')).get('o');
  return o && o.trim() ? o.trim() : null;
}

/** `href` with `o=<org>` in its query (replacing any), the path, other parameters and fragment kept. */
export function withOrganisation(href: string, org: string): string {
  const url = new URL(href);
  url.searchParams.set('o', org);
  return url.toString();
}

export type OrganisationDecision =
  | { kind: 'run' }
  | { kind: 'refuse'; urlOrganisation: string }
  | { kind: 'reload'; href: string }
  /** The token's organisation could not be learned (not because the token is bad): try again. */
  | { kind: 'unknown' };

/**
 * What the page does, given its address and its token's organisation: `tokenOrganisation` null
 * means the token was refused (401), in which case the page runs and shows that error itself
 * (there is nothing it could show); undefined means it could not be learned. `reloaded`: the page
 * already reloaded itself to add `o` and it is still missing (something strips the query): it runs
 * rather than reloading forever.
 */
export function decideOrganisation(href: string, tokenOrganisation: string | null | undefined, reloaded = false): OrganisationDecision {
  const url = new URL(href);
  const named = urlOrganisation(url.search);
  if (tokenOrganisation === null) return { kind: 'run' };
  if (tokenOrganisation === undefined) return { kind: 'unknown' };
  if (named === null) return reloaded ? { kind: 'run' } : { kind: 'reload', href: withOrganisation(href, tokenOrganisation) };
  return named === tokenOrganisation ? { kind: 'run' } : { kind: 'refuse', urlOrganisation: named };
}

/**
 * The organisation the context's token acts for: v2 the fragment's `org`; v1 the server's answer.
 * Null when the server refuses the token (401); throws when it cannot be asked.
 */
export async function tokenOrganisation(context: AnyHubContext, api?: Api): Promise<string | null> {
  if (isV2(context)) return context.org;
  try {
    const session = await (api ?? new Api(context.token)).session();
    return session.organisationId || null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

const RELOADED_KEY = 'switchyard-hub-o-reload';

/** Whether this page already reloaded itself to `href` moments ago (a loop guard). */
export function alreadyReloaded(storage: Pick<Storage, 'getItem'> | null, href: string, now = Date.now()): boolean {
  try {
    const raw = storage?.getItem(RELOADED_KEY);
    if (!raw) return false;
    const { to, at } = JSON.parse(raw) as { to?: unknown; at?: unknown };
    return typeof at === 'number' && now - at < 10_000 && typeof to === 'string' && new URL(to).pathname === new URL(href).pathname;
  } catch {
    return false;
  }
}

/** Records a reload to `href` (see `alreadyReloaded`). */
export function noteReload(storage: Pick<Storage, 'setItem'> | null, href: string, now = Date.now()): void {
  try {
    storage?.setItem(RELOADED_KEY, JSON.stringify({ to: href, at: now }));
  } catch {
    /* no storage: the guard is best effort */
  }
}
