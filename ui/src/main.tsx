import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, MissingContext, OrganisationUnknown, WrongOrganisation } from './App';
import { Spinner } from './components/common';
import { contextKey, parseFragment, type AnyHubContext } from './fragment';
import { setHostOrigin } from './host';
import { parseMessages, setMessages } from './messages';
import { alreadyReloaded, decideOrganisation, noteReload, tokenOrganisation } from './organisation';
import './styles.css';

// In an iframe (embed.js), dialogs are laid out in the document rather than fixed (see styles.css).
if (window.parent !== window) document.documentElement.classList.add('sy-embedded');

const root = createRoot(document.getElementById('root')!);

function applyTheme(theme: AnyHubContext['theme']): void {
  for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(k, v);
}

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Bumped by every render: an answer for an older fragment is dropped. */
let generation = 0;

async function render(): Promise<void> {
  const mine = ++generation;
  const parsed = parseFragment(window.location.hash);
  // The host's words (Switchyard.mount's `messages`), before anything is shown.
  setMessages(parseMessages(new URLSearchParams(window.location.hash.replace(/^#/, '')).get('messages')));
  setHostOrigin(null);
  if (!parsed.ok) {
    root.render(<MissingContext missing={parsed.missing} problem={parsed.problem} v2={/[#&](jwt|org)=/.test(window.location.hash)} />);
    return;
  }
  const { context } = parsed;
  applyTheme(context.theme);

  // The URL's organisation (`?o=`, whose framing policy the server applied) must be the token's.
  root.render(
    <div className="sy-app">
      <Spinner label="Loading integrations…" />
    </div>,
  );
  let organisation: string | null | undefined;
  try {
    organisation = await tokenOrganisation(context);
  } catch {
    organisation = undefined;
  }
  if (mine !== generation) return;
  const decision = decideOrganisation(window.location.href, organisation, alreadyReloaded(sessionStore(), window.location.href));
  if (decision.kind === 'reload') {
    noteReload(sessionStore(), decision.href);
    window.location.replace(decision.href);
    return;
  }
  if (decision.kind === 'refuse') {
    root.render(<WrongOrganisation />);
    return;
  }
  if (decision.kind === 'unknown') {
    root.render(<OrganisationUnknown onRetry={() => void render()} />);
    return;
  }
  setHostOrigin(context.origin);
  root.render(
    <StrictMode>
      <App key={contextKey(context)} context={context} />
    </StrictMode>,
  );
}

void render();
// A new session in the fragment (the host swapped the URL) starts over.
window.addEventListener('hashchange', () => void render());
