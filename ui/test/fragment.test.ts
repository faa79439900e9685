import { describe, expect, test } from 'vitest';
import { normaliseOrigin, parseFragment, parseTheme } from '../src/fragment';

describe('parseFragment', () => {
  test('reads token, hub, user and the host origin', () => {
    const r = parseFragment('#token=sy_sess_abc%2Bdef&hub=hub_1&user=alice%40example.com&origin=https%3A%2F%2Fapp.example.com');
    expect(r).toEqual({
      ok: true,
      context: { token: 'sy_sess_abc+def', hub: 'hub_1', user: 'alice@example.com', origin: 'https://app.example.com', theme: {} },
    });
  });

  test('works without the leading #', () => {
    const r = parseFragment('token=t&hub=h&user=u');
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.context.origin).toBeNull();
  });

  test('lists what is missing', () => {
    expect(parseFragment('#hub=h')).toEqual({ ok: false, missing: ['token', 'user'] });
    expect(parseFragment('')).toEqual({ ok: false, missing: ['token', 'hub', 'user'] });
    expect(parseFragment('#token=%20%20&hub=h&user=u')).toEqual({ ok: false, missing: ['token'] });
  });

  test('keeps a user id with spaces exactly as given', () => {
    const r = parseFragment('#token=t&hub=h&user=%20bob%20');
    expect(r.ok && r.context.user).toBe(' bob ');
  });

  test('drops an origin that is not one', () => {
    for (const bad of ['javascript:alert(1)', 'https://app.example.com/path', 'null', '*', 'https://u:p@app.example.com', 'ftp://x.example']) {
      const r = parseFragment(`#token=t&hub=h&user=u&origin=${encodeURIComponent(bad)}`);
      expect(r.ok && r.context.origin, bad).toBeNull();
    }
  });

  test('reads a theme', () => {
    const theme = JSON.stringify({ '--sy-color-primary': '#0b6e4f', radius: '4px' });
    const r = parseFragment(`#token=t&hub=h&user=u&theme=${encodeURIComponent(theme)}`);
    expect(r.ok && r.context.theme).toEqual({ '--sy-color-primary': '#0b6e4f', '--sy-radius': '4px' });
  });
});

describe('normaliseOrigin', () => {
  test('normalises case, default ports and a trailing slash', () => {
    expect(normaliseOrigin('HTTPS://App.Example.com:443/')).toBe('https://app.example.com');
    expect(normaliseOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  });
  test('refuses anything else', () => {
    expect(normaliseOrigin(undefined)).toBeNull();
    expect(normaliseOrigin('')).toBeNull();
    expect(normaliseOrigin('app.example.com')).toBeNull();
    expect(normaliseOrigin('https://app.example.com/?x=1')).toBeNull();
    expect(normaliseOrigin('https://app.example.com#x')).toBeNull();
    expect(normaliseOrigin('data:text/html,hi')).toBeNull();
  });
});

describe('parseTheme', () => {
  test('keeps only --sy-* properties with harmless values', () => {
    const raw = JSON.stringify({
      '--sy-color-primary': 'rebeccapurple',
      '--other': 'red',
      '--sy-bad': 'red; } body { display:none',
      '--sy-font': 'Inter, sans-serif',
      '--sy-n': 4,
      '--sy-obj': { a: 1 },
      '--sy-html': '</style><script>',
    });
    expect(parseTheme(raw)).toEqual({ '--sy-color-primary': 'rebeccapurple', '--sy-font': 'Inter, sans-serif', '--sy-n': '4' });
  });
  test('ignores what is not a JSON object', () => {
    expect(parseTheme(null)).toEqual({});
    expect(parseTheme('not json')).toEqual({});
    expect(parseTheme('[1,2]')).toEqual({});
    expect(parseTheme('"--sy-x"')).toEqual({});
  });
});
