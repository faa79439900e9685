import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, MissingContext } from './App';
import { contextKey, parseFragment, type AnyHubContext } from './fragment';
import { setHostOrigin } from './host';
import './styles.css';

// In an iframe (embed.js), dialogs are laid out in the document rather than fixed (see styles.css).
if (window.parent !== window) document.documentElement.classList.add('sy-embedded');

const root = createRoot(document.getElementById('root')!);

function applyTheme(theme: AnyHubContext['theme']): void {
  for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(k, v);
}

function render(): void {
  const parsed = parseFragment(window.location.hash);
  if (!parsed.ok) {
    setHostOrigin(null);
    root.render(<MissingContext missing={parsed.missing} problem={parsed.problem} v2={/[#&](jwt|org)=/.test(window.location.hash)} />);
    return;
  }
  const { context } = parsed;
  setHostOrigin(context.origin);
  applyTheme(context.theme);
  root.render(
    <StrictMode>
      <App key={contextKey(context)} context={context} />
    </StrictMode>,
  );
}

render();
// A new session in the fragment (the host swapped the URL) starts over.
window.addEventListener('hashchange', render);
