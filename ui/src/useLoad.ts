/** Load-then-report state: what the grid, the wizard and the manage view each fetch when they open,
 * with a spinner meanwhile, an error with Retry when it fails, and a reload on demand. */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface LoadOptions<T> {
  /** Called with the data of a load that succeeded, before it is shown (to reset forms that
   * depend on it, say). */
  onLoaded?: (data: T) => void;
  /** Called with what a failed load threw (to tell the host page, say). */
  onError?: (error: unknown) => void;
  /** Whether a reload keeps showing the data it replaces (and keeps it when it fails). By default
   * a reload starts from nothing, as the first load does. */
  keepData?: boolean;
}

export interface Load<T> {
  /** `loading` from the start of a load until it settles, then `loaded` or `failed`. */
  status: 'loading' | 'loaded' | 'failed';
  /** The data of the last load that succeeded (or `setData`'s); `null` before, and while a reload
   * runs or after it failed unless `keepData`. */
  data: T | null;
  /** What the last load threw when `status` is `failed`; `undefined` otherwise. */
  error: unknown;
  /** Loads again. */
  reload: () => void;
  /** Replaces the data (after a change the component made itself). */
  setData: (data: T) => void;
}

type State<T> = Pick<Load<T>, 'status' | 'data' | 'error'>;

/**
 * Runs `load` when the component mounts and whenever `load` changes (memoise it with `useCallback`
 * over what it reads), and on `reload()`. Only the latest load counts: one that settles after a
 * newer one started, or after the component unmounted, is ignored, callbacks included.
 */
export function useLoad<T>(load: () => Promise<T>, options: LoadOptions<T> = {}): Load<T> {
  const [state, setState] = useState<State<T>>({ status: 'loading', data: null, error: undefined });
  const latest = useRef(0);
  const opts = useRef(options);
  useEffect(() => {
    opts.current = options;
  });

  const run = useCallback(() => {
    const id = ++latest.current;
    setState((prev) => ({ status: 'loading', data: opts.current.keepData ? prev.data : null, error: undefined }));
    new Promise<T>((resolve) => resolve(load())).then(
      (data) => {
        if (id !== latest.current) return;
        opts.current.onLoaded?.(data);
        setState({ status: 'loaded', data, error: undefined });
      },
      (error: unknown) => {
        if (id !== latest.current) return;
        opts.current.onError?.(error);
        setState((prev) => ({ status: 'failed', data: opts.current.keepData ? prev.data : null, error }));
      },
    );
  }, [load]);

  useEffect(() => {
    run();
    return () => {
      // Whatever is in flight no longer counts.
      latest.current++;
    };
  }, [run]);

  const setData = useCallback((data: T) => setState((prev) => ({ ...prev, data })), []);
  return { ...state, reload: run, setData };
}
