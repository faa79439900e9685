import { afterEach, describe, expect, test } from 'vitest';
import { frameUrl } from '../src/embed';
import { DEFAULT_MESSAGES, parseMessages, setMessages, t } from '../src/messages';

describe('the words catalogue', () => {
  afterEach(() => setMessages(null));
  test('defaults, with placeholders filled', () => {
    expect(t('grid.count', { connected: 1, total: 3 })).toBe('1 of 3 connected');
    expect(t('wizard.title', { name: 'CRM sync' })).toBe('Connect CRM sync');
  });
  test('the host overrides any word; unknown keys and non-strings are ignored', () => {
    setMessages({ 'grid.title': 'Apps', 'grid.count': '{connected}/{total} on', nope: 'x', 'tile.connect': 3 });
    expect([t('grid.title'), t('grid.count', { connected: 2, total: 5 }), t('tile.connect')]).toEqual(['Apps', '2/5 on', DEFAULT_MESSAGES['tile.connect']]);
    setMessages(null);
    expect(t('grid.title')).toBe('Integrations');
  });
  test('mount passes them in the fragment; the page reads them back', () => {
    const url = frameUrl('https://sy.example/hub/#token=t&hub=h&user=u', 'https://app.example', undefined, { 'grid.title': 'Apps & more' });
    const raw = new URLSearchParams(url.hash.slice(1)).get('messages');
    expect(parseMessages(raw)).toEqual({ 'grid.title': 'Apps & more' });
    expect(parseMessages('not json')).toBeNull();
    expect(parseMessages('[1]')).toBeNull();
  });
});
