/** Events from the hub page to the host page that embeds it (see embed.ts). */
export type HostEventType = 'activated' | 'deactivated' | 'closed' | 'error' | 'resize';

export interface HostMessage {
  source: 'switchyard';
  type: HostEventType;
  payload: unknown;
}

let hostOrigin: string | null = null;

/** Sets the host's origin (from the fragment); with none, nothing is posted. */
export function setHostOrigin(origin: string | null): void {
  hostOrigin = origin;
}

/** Posts an event to `window.parent`, only to the host's origin, never to `*`. */
export function postToHost(type: HostEventType, payload: unknown = {}, target: Window | null = typeof window !== 'undefined' ? window.parent : null): boolean {
  if (!hostOrigin || !target || (typeof window !== 'undefined' && target === window)) return false;
  const message: HostMessage = { source: 'switchyard', type, payload };
  try {
    target.postMessage(message, hostOrigin);
    return true;
  } catch {
    return false;
  }
}

/** Elements whose height the iframe must fit: the page and any open dialog (fixed, so outside the flow). */
const watched = new Map<Element, (el: Element) => number>();
let observer: ResizeObserver | null = null;
let lastHeight = -1;
let scheduled = false;

function measure(): number {
  let h = 0;
  for (const [el, fn] of watched) h = Math.max(h, fn(el));
  return Math.ceil(h);
}

function report(): void {
  scheduled = false;
  const height = measure();
  if (height > 0 && height !== lastHeight) {
    lastHeight = height;
    postToHost('resize', { height });
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(report);
}

/** Watches `el`; `heightOf` gives the height the document needs for it. Returns the unwatch function. */
export function watchSize(el: Element, heightOf: (el: Element) => number): () => void {
  if (typeof ResizeObserver === 'undefined') return () => undefined;
  observer ??= new ResizeObserver(schedule);
  watched.set(el, heightOf);
  observer.observe(el);
  schedule();
  return () => {
    watched.delete(el);
    observer?.unobserve(el);
    schedule();
  };
}
