import { useEffect, useId, useLayoutEffect, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { t } from '../messages';
import { watchSize } from '../host';

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  '[tabindex]:not([tabindex="-1"])',
  'summary',
].join(',');

/** The open dialogs, innermost last: only the innermost one handles keys. */
const stack: HTMLElement[] = [];

function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest('[inert]') && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden',
  );
}

/** Makes everything but the top dialog inert (unreachable by keyboard and assistive technology). */
function syncInert(): void {
  const app = document.getElementById('root');
  if (app) app.inert = stack.length > 0;
  stack.forEach((el, i) => {
    const overlay = el.parentElement;
    if (overlay) overlay.inert = i !== stack.length - 1;
  });
}

export interface ModalProps {
  title: ReactNode;
  /** Text for assistive technology describing the dialog (optional). */
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  testId: string;
  /** `alertdialog` for confirmations. */
  role?: 'dialog' | 'alertdialog';
  /** The element to focus first (otherwise the first field, else the dialog itself). */
  initialFocus?: () => HTMLElement | null;
  size?: 'normal' | 'small';
  /** Extra content of the header, beside the title. */
  headerExtra?: ReactNode;
}

/**
 * An accessible modal dialog: focus moves in and is trapped there, Escape closes, the page behind
 * is inert, and focus returns to what had it before (the tile) when it closes.
 */
export function Modal({ title, description, onClose, children, testId, role = 'dialog', initialFocus, size = 'normal', headerExtra }: ModalProps) {
  const panelRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const descId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useLayoutEffect(() => {
    const panel = panelRef.current!;
    const previouslyFocused = document.activeElement as HTMLElement | null;
    stack.push(panel);
    syncInert();
    const target = initialFocus?.() ?? focusables(panel).find((el) => el.matches('input,select,textarea')) ?? panel;
    target.focus();
    return () => {
      const i = stack.indexOf(panel);
      if (i >= 0) stack.splice(i, 1);
      syncInert();
      // Back to the element that opened the dialog (when it is still there).
      if (previouslyFocused && document.contains(previouslyFocused)) previouslyFocused.focus();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const content = contentRef.current!;
    return watchSize(content, (el) => {
      const panel = panelRef.current;
      const overlay = panel?.parentElement;
      if (!panel || !overlay) return el.getBoundingClientRect().height;
      const ps = getComputedStyle(panel);
      const os = getComputedStyle(overlay);
      const px = (v: string) => parseFloat(v) || 0;
      return (
        el.getBoundingClientRect().height +
        px(ps.paddingTop) + px(ps.paddingBottom) + px(ps.borderTopWidth) + px(ps.borderBottomWidth) +
        px(os.paddingTop) + px(os.paddingBottom)
      );
    });
  }, []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    const panel = panelRef.current!;
    if (stack[stack.length - 1] !== panel) return;
    if (e.key === 'Escape') {
      e.stopPropagation();
      e.preventDefault();
      onCloseRef.current();
      return;
    }
    if (e.key === 'Tab') {
      const items = focusables(panel);
      if (items.length === 0) {
        e.preventDefault();
        panel.focus();
        return;
      }
      const first = items[0];
      const last = items[items.length - 1];
      const active = document.activeElement;
      if (e.shiftKey && (active === first || active === panel || !panel.contains(active))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (active === last || !panel.contains(active))) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  // Focus that escapes (a click on the backdrop, a programmatic move) is brought back.
  useEffect(() => {
    const onFocusIn = (e: FocusEvent) => {
      const panel = panelRef.current;
      if (!panel || stack[stack.length - 1] !== panel) return;
      if (e.target instanceof Node && !panel.contains(e.target)) panel.focus();
    };
    document.addEventListener('focusin', onFocusIn);
    return () => document.removeEventListener('focusin', onFocusIn);
  }, []);

  return createPortal(
    <div className="sy-overlay">
      <div
        ref={panelRef}
        className={`sy-dialog sy-dialog--${size}`}
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descId : undefined}
        tabIndex={-1}
        data-testid={testId}
        onKeyDown={onKeyDown}
      >
        <div ref={contentRef} className="sy-dialog__content">
          <div className="sy-dialog__header">
            <h2 id={titleId} className="sy-dialog__title">
              {title}
            </h2>
            {headerExtra}
            <button type="button" className="sy-icon-button" aria-label={t('dialog.close')} data-testid="close" onClick={() => onCloseRef.current()}>
              <svg aria-hidden="true" width="20" height="20" viewBox="0 0 20 20">
                <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
              </svg>
            </button>
          </div>
          {description ? (
            <p id={descId} className="sy-dialog__description">
              {description}
            </p>
          ) : null}
          {children}
        </div>
      </div>
    </div>,
    document.body,
  );
}
