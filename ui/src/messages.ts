/**
 * The page's words, in one catalogue. The host may override any of them through
 * `Switchyard.mount(el, { messages: { 'grid.title': 'Apps', ... } })`, which passes them in the
 * fragment (`messages=<JSON>`): to match its product's voice, or its language. `{name}`-style
 * placeholders are filled in by `t`.
 */
export const DEFAULT_MESSAGES = {
  'grid.title': 'Integrations',
  'grid.count': '{connected} of {total} connected',
  'grid.search': 'Search integrations',
  'grid.loading': 'Loading integrations…',
  'grid.empty': 'No integrations are available yet.',
  'grid.noMatch': 'No integrations match “{query}”.',
  'grid.savedConnections': 'Saved connections',
  'tile.connected': 'Connected',
  'tile.needsAttention': 'Needs attention',
  'tile.connect': 'Connect',
  'tile.manage': 'Manage',
  'tile.reconnect': 'Reconnect',
  'notice.connected': '{name} is connected.',
  'notice.deactivated': '{name} was deactivated.',
  'notice.dismiss': 'Dismiss',
  'session.ended': 'Your session has ended. Open the integrations page from your application again.',
  'wizard.title': 'Connect {name}',
  'wizard.connectStep': 'Connect {name}',
  'wizard.settingsStep': 'Settings',
  'wizard.reviewStep': 'Review and activate',
  'wizard.primaryHint': 'This is your main {name} account.',
  'wizard.next': 'Next',
  'wizard.back': 'Back',
  'wizard.cancel': 'Cancel',
  'wizard.activate': 'Activate',
  'wizard.activating': 'Activating…',
  'form.choose': 'Choose…',
  'form.apiKey': '{name} API key',
  'form.connectionName': 'Connection name',
  'manage.deactivate': 'Deactivate',
  'manage.deactivateTitle': 'Deactivate {name}?',
  'manage.deactivateWhat':
    '{name} will stop working for your account and its settings will be removed. Your saved connections (your sign-ins to the apps it used) are kept: you can reuse them when you activate an integration again, or remove them under “Saved connections”.',
  'manage.deactivateWhatV2':
    '{name} will stop working for your account and its settings will be removed. The connections made for it (your sign-ins to the apps it used) stay stored with your account.',
  'saved.title': 'Your saved connections',
  'saved.intro': 'Your sign-ins to the apps your integrations use. Deactivating an integration keeps them; you can remove one that no integration uses.',
  'saved.usedBy': 'Used by {names}',
  'saved.unused': 'Not used by any integration',
  'saved.main': 'your main account',
  'saved.remove': 'Remove',
  'saved.confirm': 'Confirm removal',
  'saved.removing': 'Removing…',
  'saved.none': 'You have no saved connections.',
};

export type MessageKey = keyof typeof DEFAULT_MESSAGES;

let current: Record<MessageKey, string> = { ...DEFAULT_MESSAGES };

/** The word for `key`, its `{placeholders}` filled from `vars`. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return current[key].replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** Overrides some words (unknown keys and non-strings are ignored); `null` restores the defaults. */
export function setMessages(overrides: Record<string, unknown> | null): void {
  current = { ...DEFAULT_MESSAGES };
  if (!overrides) return;
  for (const [k, v] of Object.entries(overrides)) {
    if (k in DEFAULT_MESSAGES && typeof v === 'string' && v.length <= 2000) current[k as MessageKey] = v;
  }
}

/** The fragment's `messages` parameter: a JSON object of overrides, or null. */
export function parseMessages(raw: string | null): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
