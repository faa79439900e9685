import { describe, expect, test } from 'vitest';
import { Api } from '../src/api';
import type { HubContext, HubContextV2 } from '../src/fragment';
import { alreadyReloaded, decideOrganisation, noteReload, tokenOrganisation, urlOrganisation, withOrganisation } from '../src/organisation';

const PAGE = 'https://sy.example/hub/';
const FRAGMENT = '#token=sys_t&hub=h1&user=alice&origin=https%3A%2F%2Fapp.example.com';

describe('urlOrganisation and withOrganisation', () => {
  test('reads o from the query', () => {
    expect(urlOrganisation('?o=org_1')).toBe('org_1');
    expect(urlOrganisation('o=org_1&x=2')).toBe('org_1');
    expect(urlOrganisation('')).toBeNull();
    expect(urlOrganisation('?o=')).toBeNull();
  });
  test('puts o in the query before the fragment, keeping the rest', () => {
    expect(withOrganisation(`${PAGE}${FRAGMENT}`, 'org_1')).toBe(`${PAGE}?o=org_1${FRAGMENT}`);
    expect(withOrganisation(`${PAGE}?x=1&o=other${FRAGMENT}`, 'org 1')).toBe(`${PAGE}?x=1&o=org+1${FRAGMENT}`);
  });
});

describe('decideOrganisation', () => {
  test('runs when o is the token organisation', () => {
    expect(decideOrganisation(`${PAGE}?o=org_1${FRAGMENT}`, 'org_1')).toEqual({ kind: 'run' });
  });
  test('refuses when o names another organisation', () => {
    expect(decideOrganisation(`${PAGE}?o=org_2${FRAGMENT}`, 'org_1')).toEqual({ kind: 'refuse', urlOrganisation: 'org_2' });
  });
  test('reloads with o when the address lacks it, once', () => {
    expect(decideOrganisation(`${PAGE}${FRAGMENT}`, 'org_1')).toEqual({ kind: 'reload', href: `${PAGE}?o=org_1${FRAGMENT}` });
    expect(decideOrganisation(`${PAGE}${FRAGMENT}`, 'org_1', true)).toEqual({ kind: 'run' });
    expect(decideOrganisation(`${PAGE}?o=org_2${FRAGMENT}`, 'org_1', true)).toEqual({ kind: 'refuse', urlOrganisation: 'org_2' });
  });
  test('a refused token runs (the page shows that error); an unknown organisation does not', () => {
    expect(decideOrganisation(`${PAGE}?o=org_2${FRAGMENT}`, null)).toEqual({ kind: 'run' });
    expect(decideOrganisation(`${PAGE}?o=org_2${FRAGMENT}`, undefined)).toEqual({ kind: 'unknown' });
    expect(decideOrganisation(`${PAGE}${FRAGMENT}`, undefined)).toEqual({ kind: 'unknown' });
  });
});

function fakeFetch(status: number, body: unknown): typeof fetch {
  return (async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })) as typeof fetch;
}

describe('tokenOrganisation', () => {
  const v1: HubContext = { token: 'sys_t', hub: 'h1', user: 'alice', origin: null, theme: {} };
  const v2: HubContextV2 = { mode: 'v2', jwt: 'a.b.c', org: 'org_v2', user: 'alice', expiresAt: null, origin: null, theme: {} };

  test('v2: the fragment organisation (the server refuses a token of another)', async () => {
    expect(await tokenOrganisation(v2)).toBe('org_v2');
  });
  test('v1: what GET /api/embedded/v1/session answers', async () => {
    let asked = '';
    const fetchFn = (async (url: string, init: RequestInit) => {
      asked = `${init.method} ${url} ${(init.headers as Record<string, string>).Authorization}`;
      return new Response(JSON.stringify({ organisationId: 'org_1', hubId: 'h1', userId: 'alice' }), { status: 200 });
    }) as unknown as typeof fetch;
    expect(await tokenOrganisation(v1, new Api('sys_t', '', fetchFn))).toBe('org_1');
    expect(asked).toBe('GET /api/embedded/v1/session Bearer sys_t');
  });
  test('v1: null for a refused token, an error when the server cannot say', async () => {
    expect(await tokenOrganisation(v1, new Api('sys_t', '', fakeFetch(401, { code: '401000', message: 'unknown or expired session token' })))).toBeNull();
    await expect(tokenOrganisation(v1, new Api('sys_t', '', fakeFetch(503, { code: '503000', message: 'unavailable' })))).rejects.toThrow();
    const offline = (async () => {
      throw new TypeError('offline');
    }) as unknown as typeof fetch;
    await expect(tokenOrganisation(v1, new Api('sys_t', '', offline))).rejects.toThrow();
  });
});

describe('the reload guard', () => {
  function store() {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
  }
  test('remembers a reload to the same page for ten seconds', () => {
    const s = store();
    expect(alreadyReloaded(s, `${PAGE}${FRAGMENT}`, 1000)).toBe(false);
    noteReload(s, `${PAGE}?o=org_1${FRAGMENT}`, 1000);
    expect(alreadyReloaded(s, `${PAGE}${FRAGMENT}`, 5000)).toBe(true);
    expect(alreadyReloaded(s, `${PAGE}${FRAGMENT}`, 12_000)).toBe(false);
    expect(alreadyReloaded(null, `${PAGE}${FRAGMENT}`)).toBe(false);
  });
});
