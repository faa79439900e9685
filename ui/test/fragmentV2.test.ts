import { describe, expect, test } from 'vitest';
import { contextKey, isV2, jwtClaims, parseFragment } from '../src/fragment';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An unsigned-looking JWT with `claims` (the page reads, never verifies). */
const jwt = (claims: unknown) => `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`;

describe('parseFragment, Platform API v2 mode', () => {
  test('reads jwt and org; the user is the token’s sub', () => {
    const token = jwt({ iss: 'https://versori.com/sk/01KEY', sub: 'erin@example.com', exp: 1900000000 });
    const r = parseFragment(`#jwt=${token}&org=01ORG&origin=https%3A%2F%2Fapp.example.com`);
    expect(r).toEqual({
      ok: true,
      context: { mode: 'v2', jwt: token, org: '01ORG', user: 'erin@example.com', expiresAt: 1900000000, origin: 'https://app.example.com', theme: {} },
    });
    expect(r.ok && isV2(r.context)).toBe(true);
  });

  test('reads a theme and drops a bad origin, as in v1 mode', () => {
    const token = jwt({ sub: 'erin' });
    const r = parseFragment(`#jwt=${token}&org=o&origin=javascript%3Aalert(1)&theme=${encodeURIComponent(JSON.stringify({ radius: '2px' }))}`);
    expect(r.ok && r.context.origin).toBeNull();
    expect(r.ok && r.context.theme).toEqual({ '--sy-radius': '2px' });
    expect(r.ok && isV2(r.context) && r.context.expiresAt).toBeNull();
  });

  test('keeps a sub with non-ASCII characters', () => {
    const r = parseFragment(`#jwt=${jwt({ sub: 'zoë 42' })}&org=o`);
    expect(r.ok && r.context.user).toBe('zoë 42');
  });

  test('lists what is missing', () => {
    expect(parseFragment(`#jwt=${jwt({ sub: 'erin' })}`)).toEqual({ ok: false, missing: ['org'] });
    expect(parseFragment('#org=o')).toEqual({ ok: false, missing: ['jwt'] });
    expect(parseFragment('#jwt=&org=')).toEqual({ ok: false, missing: ['jwt', 'org'] });
    expect(parseFragment('#jwt=%20&org=o')).toEqual({ ok: false, missing: ['jwt'] });
  });

  test('explains a token that is not a JWT or names no user', () => {
    const notJwt = parseFragment('#jwt=sys_abc&org=o');
    expect(notJwt.ok).toBe(false);
    expect(!notJwt.ok && notJwt.problem).toMatch(/not a JSON Web Token/);
    const garbage = parseFragment('#jwt=a.%25%25%25.c&org=o');
    expect(!garbage.ok && garbage.problem).toMatch(/not a JSON Web Token/);
    const noSub = parseFragment(`#jwt=${jwt({ iss: 'x' })}&org=o`);
    expect(!noSub.ok && noSub.problem).toMatch(/sub claim/);
    const numericSub = parseFragment(`#jwt=${jwt({ sub: 42 })}&org=o`);
    expect(!numericSub.ok && numericSub.problem).toMatch(/sub claim/);
  });

  test('v1 parameters beside jwt/org do not make a v1 context', () => {
    const r = parseFragment(`#token=t&hub=h&user=u&jwt=${jwt({ sub: 'erin' })}&org=o`);
    expect(r.ok && r.context.mode).toBe('v2');
    expect(r.ok && r.context.user).toBe('erin');
  });

  test('v1 contexts are unchanged and not v2', () => {
    const r = parseFragment('#token=t&hub=h&user=u');
    expect(r.ok && isV2(r.context)).toBe(false);
    expect(r.ok && r.context.mode).toBeUndefined();
  });

  test('contextKey changes with the session', () => {
    const a = parseFragment(`#jwt=${jwt({ sub: 'erin' })}&org=o`);
    const b = parseFragment(`#jwt=${jwt({ sub: 'erin', exp: 2 })}&org=o`);
    const c = parseFragment('#token=t&hub=h&user=u');
    if (!a.ok || !b.ok || !c.ok) throw new Error('parsed');
    expect(contextKey(a.context)).not.toBe(contextKey(b.context));
    expect(contextKey(c.context)).toBe('t|h|u');
  });
});

describe('jwtClaims', () => {
  test('decodes base64url without padding', () => {
    expect(jwtClaims(jwt({ sub: '??>>', n: 1 }))).toEqual({ sub: '??>>', n: 1 });
  });
  test('null for anything else', () => {
    expect(jwtClaims('')).toBeNull();
    expect(jwtClaims('a.b')).toBeNull();
    expect(jwtClaims(`x.${b64url([1, 2])}.y`)).toBeNull();
    expect(jwtClaims(`x.${Buffer.from('not json').toString('base64url')}.y`)).toBeNull();
  });
});
