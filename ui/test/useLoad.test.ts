// @vitest-environment happy-dom
import { act, createElement, useCallback, useState } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, test } from 'vitest';
import { useLoad, type Load, type LoadOptions } from '../src/useLoad';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

type Snapshot<T> = Pick<Load<T>, 'status' | 'data' | 'error'>;

/** Mounts a component using `useLoad(loaders[key])`, recording every render's state. `setKey`
 * switches to another loader (a new function, as when a `useCallback` dependency changes). */
async function mount<T>(loaders: Record<string, () => Promise<T>>, first: string, options: LoadOptions<T> | (() => LoadOptions<T>) = {}) {
  const renders: Snapshot<T>[] = [];
  let current!: Load<T>;
  let setKey!: (k: string) => void;
  function Probe() {
    const [key, set] = useState(first);
    setKey = set;
    const load = useCallback(() => loaders[key](), [key]);
    current = useLoad(load, typeof options === 'function' ? options() : options);
    renders.push({ status: current.status, data: current.data, error: current.error });
    return null;
  }
  const root = createRoot(document.createElement('div'));
  await act(async () => root.render(createElement(Probe)));
  roots.push(root);
  return {
    renders,
    get: () => current,
    last: () => renders[renders.length - 1],
    setKey: (k: string) => act(async () => setKey(k)),
    reload: () => act(async () => current.reload()),
    unmount: () => act(async () => root.unmount()),
  };
}

const roots: Root[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await act(async () => r.unmount());
});

/** Settles a deferred inside `act`, so that React applies what follows. */
const settle = (f: () => void) => act(async () => f());

describe('useLoad', () => {
  test('loading, then the data; onLoaded sees it first, once', async () => {
    const d = deferred<string>();
    let calls = 0;
    const seen: string[] = [];
    const h = await mount({ a: () => (calls++, d.promise) }, 'a', { onLoaded: (x) => seen.push(x) });
    expect(h.last()).toEqual({ status: 'loading', data: null, error: undefined });
    await settle(() => d.resolve('hello'));
    expect(h.last()).toEqual({ status: 'loaded', data: 'hello', error: undefined });
    expect(seen).toEqual(['hello']);
    expect(calls).toBe(1);
  });

  test('a failure is reported once, and reload clears it and loads again', async () => {
    let attempt = 0;
    const failures: unknown[] = [];
    const boom = new Error('boom');
    const h = await mount({ a: () => (++attempt === 1 ? Promise.reject(boom) : Promise.resolve(attempt)) }, 'a', { onError: (e) => failures.push(e) });
    expect(h.last()).toEqual({ status: 'failed', data: null, error: boom });
    expect(failures).toEqual([boom]);
    await h.reload();
    expect(h.last()).toEqual({ status: 'loaded', data: 2, error: undefined });
    expect(failures).toEqual([boom]);
  });

  test('a loader that throws before its promise is a failure too', async () => {
    const h = await mount<number>(
      {
        a: () => {
          throw new Error('sync');
        },
      },
      'a',
    );
    expect(h.last().status).toBe('failed');
    expect((h.last().error as Error).message).toBe('sync');
  });

  test('by default a reload starts from nothing, and a failed one leaves nothing', async () => {
    let next = deferred<string>();
    const h = await mount({ a: () => next.promise }, 'a');
    await settle(() => next.resolve('v1'));
    expect(h.last().data).toBe('v1');
    next = deferred<string>();
    await h.reload();
    expect(h.last()).toEqual({ status: 'loading', data: null, error: undefined });
    await settle(() => next.reject('down'));
    expect(h.last()).toEqual({ status: 'failed', data: null, error: 'down' });
  });

  test('keepData: a reload shows the old data meanwhile, and keeps it beside an error', async () => {
    let next = deferred<string>();
    const h = await mount({ a: () => next.promise }, 'a', { keepData: true });
    await settle(() => next.resolve('v1'));
    next = deferred<string>();
    await h.reload();
    expect(h.last()).toEqual({ status: 'loading', data: 'v1', error: undefined });
    await settle(() => next.reject('down'));
    expect(h.last()).toEqual({ status: 'failed', data: 'v1', error: 'down' });
    next = deferred<string>();
    await h.reload();
    await settle(() => next.resolve('v2'));
    expect(h.last()).toEqual({ status: 'loaded', data: 'v2', error: undefined });
  });

  test('only the latest load counts: an older one settling later is ignored, callbacks included', async () => {
    const slow = deferred<string>();
    const fast = deferred<string>();
    const loaded: string[] = [];
    const errors: unknown[] = [];
    const queue = [slow, fast];
    const h = await mount({ a: () => queue.shift()!.promise }, 'a', { onLoaded: (x) => loaded.push(x), onError: (e) => errors.push(e) });
    await h.reload();
    await settle(() => fast.resolve('fast'));
    await settle(() => slow.resolve('slow'));
    expect(h.last()).toEqual({ status: 'loaded', data: 'fast', error: undefined });
    expect(loaded).toEqual(['fast']);

    // The same for a stale failure.
    const stale = deferred<string>();
    const fresh = deferred<string>();
    queue.push(stale, fresh);
    await h.reload();
    await h.reload();
    await settle(() => fresh.resolve('fresh'));
    await settle(() => stale.reject('stale'));
    expect(h.last()).toEqual({ status: 'loaded', data: 'fresh', error: undefined });
    expect(errors).toEqual([]);
  });

  test('a new loader (its dependencies changed) loads again, and the old one no longer counts', async () => {
    const a = deferred<string>();
    const b = deferred<string>();
    const h = await mount({ a: () => a.promise, b: () => b.promise }, 'a');
    await h.setKey('b');
    await settle(() => b.resolve('from b'));
    await settle(() => a.resolve('from a'));
    expect(h.last()).toEqual({ status: 'loaded', data: 'from b', error: undefined });
  });

  test('nothing is called once the component is gone', async () => {
    const d = deferred<string>();
    const calls: string[] = [];
    const h = await mount({ a: () => d.promise }, 'a', { onLoaded: () => calls.push('loaded'), onError: () => calls.push('error') });
    const renders = h.renders.length;
    await h.unmount();
    await settle(() => d.resolve('late'));
    expect(calls).toEqual([]);
    expect(h.renders.length).toBe(renders);
  });

  test('setData replaces the data; the callbacks of the latest render are the ones called', async () => {
    let next = deferred<{ n: number }>();
    const seen: string[] = [];
    let tag = 'first';
    // Each render passes new callbacks, which know the tag of their render.
    const h = await mount({ a: () => next.promise }, 'a', () => {
      const mine = tag;
      return { onLoaded: () => seen.push(mine) };
    });
    await settle(() => next.resolve({ n: 1 }));
    await act(async () => h.get().setData({ n: 5 }));
    expect(h.last()).toEqual({ status: 'loaded', data: { n: 5 }, error: undefined });
    tag = 'second';
    next = deferred<{ n: number }>();
    await h.reload();
    await settle(() => next.resolve({ n: 2 }));
    expect(seen).toEqual(['first', 'second']);
    expect(h.last().data).toEqual({ n: 2 });
  });
});
