import { afterEach, describe, expect, test } from 'vitest';
import { postToHost, setHostOrigin } from '../src/host';

function target() {
  const posted: { message: unknown; origin: string }[] = [];
  return { posted, postMessage: (message: unknown, origin: string) => posted.push({ message, origin }) };
}

describe('postToHost', () => {
  afterEach(() => setHostOrigin(null));

  test('posts only to the origin from the fragment', () => {
    const t = target();
    setHostOrigin('https://app.example.com');
    expect(postToHost('activated', { activationId: 'a1' }, t as unknown as Window)).toBe(true);
    expect(t.posted).toEqual([{ message: { source: 'switchyard', type: 'activated', payload: { activationId: 'a1' } }, origin: 'https://app.example.com' }]);
  });

  test('posts nothing without a host origin (never to "*")', () => {
    const t = target();
    setHostOrigin(null);
    expect(postToHost('error', {}, t as unknown as Window)).toBe(false);
    expect(t.posted).toEqual([]);
  });

  test('posts nothing without a target', () => {
    setHostOrigin('https://app.example.com');
    expect(postToHost('closed', {}, null)).toBe(false);
  });
});
