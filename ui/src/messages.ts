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
  'manage.connected': 'Connected',
  'manage.connections': 'Connections',
  'manage.replace': 'Replace',
  'manage.replaceLabel': 'Replace the {name} connection',
  'manage.replaceTitle': 'Replace the {name} connection',
  'manage.reconnectTitle': 'Reconnect {name}',
  'manage.reconnectWhy': 'Your {name} sign-in no longer works, so {integration} cannot run. Connect it again.',
  'manage.replaced': 'The {name} connection was replaced.',
  'manage.settings': 'Settings',
  'manage.reconfigure': 'Reconfigure',
  'manage.reconfigureTitle': 'Reconfigure settings',
  'manage.saved': 'Settings saved.',
  'manage.save': 'Save',
  'manage.saveConnection': 'Save connection',
  'manage.saving': 'Saving…',
  'manage.back': 'Back',
  'manage.cancel': 'Cancel',
  'manage.deactivating': 'Deactivating…',
  'manage.deactivateIntro': 'Stops {name} for your account and removes its settings. Your saved connections stay. You can activate it again later.',
  'form.useExisting': 'Use an existing connection',
  'form.createNew': 'Create a new connection',
  'form.howToConnect': 'How do you want to connect {name}?',
  'form.connection': 'Connection',
  'form.chooseConnection': 'Choose a connection',
  'form.connectionNameHint': 'A name to recognise this connection by.',
  'form.username': 'Username',
  'form.password': 'Password',
  'form.certificate': 'Certificate (PEM)',
  'form.privateKey': 'Private key (PEM)',
  'form.ca': 'CA certificate (PEM, optional)',
  'form.clientId': 'Client ID',
  'form.clientSecret': 'Client secret',
  'form.signingSecret': 'Signing secret',
  'form.pemHint': 'Paste the whole block, from -----BEGIN ... to -----END ... .',
  'form.account': 'Account',
  'form.oauthConnect': 'Connect {name}',
  'form.oauthReconnect': 'Reconnect {name}',
  'form.oauthWaiting': 'Waiting for the sign-in window…',
  'form.oauthConnected': '✓ Connected',
  'form.oauthNotYet': 'Not connected yet',
  'review.intro': 'Check the details below, then activate {name}.',
  'review.connections': 'Connections',
  'review.settings': 'Settings',
  'review.existing': 'Existing connection: {name}',
  'review.newNamed': 'New connection “{name}” ({scheme})',
  'review.new': 'New connection ({scheme})',
  'review.change': 'Change',
  'review.changeLabel': 'Change the {name} connection',
  'review.changeSettings': 'Change settings',
  'wizard.settingsIntro': 'Choose how {name} should work for you.',
  'error.retry': 'Try again',
  'loading': 'Loading…',
  'loading.form': 'Loading the form…',
  'dialog.close': 'Close',
  'form.addItem': '+ Add',
  'form.removeItem': 'Remove',
  'page.needsSession': 'This page needs a session to show your integrations.',
  'page.problem': '{problem} Open the page from your application again.',
  'page.missing': 'Missing from the address: {missing}. Open it from your application, or with',
  'page.wrongOrganisation': 'This page was opened for another organisation.',
  'page.wrongOrganisationWhy':
    'The address names an organisation that this session does not belong to, so the integrations are not shown. Open the page from your application again.',
  'schema.required': 'This field is required.',
  'schema.enum': 'Choose one of {values}.',
  'schema.enumAny': 'Choose one of the options.',
  'schema.const': 'Must be {value}.',
  'schema.type': 'Must be {types}.',
  'schema.minimum': 'Must be {limit} or more.',
  'schema.maximum': 'Must be {limit} or less.',
  'schema.exclusiveMinimum': 'Must be more than {limit}.',
  'schema.exclusiveMaximum': 'Must be less than {limit}.',
  'schema.multipleOf': 'Must be a multiple of {value}.',
  'schema.notEmpty': 'This field cannot be empty.',
  'schema.minLength': 'Must be at least {count} long.',
  'schema.maxLength': 'Must be at most {count} long.',
  'schema.patternExample': 'Use the expected form, like {examples}.',
  'schema.patternDescription': 'Use the expected form: {description}.',
  'schema.patternPattern': 'Use the expected form (matching the pattern {pattern}).',
  'schema.pattern': 'Use the expected form.',
  'schema.formatKnown': 'Enter {format}.',
  'schema.format': 'Must be a valid {format}.',
  'schema.minItems': 'Add at least {count}.',
  'schema.maxItems': 'Add at most {count}.',
  'schema.uniqueItems': 'Every item must be different.',
  'schema.additionalProperties': 'Unknown setting “{name}”.',
  'error.network': 'Could not reach the server. Check your network connection and try again; nothing you entered has been lost.',
  'error.generic': 'Something went wrong.',
  'error.sessionCheck': 'Could not check this session with the server. Check your network connection and try again.',
  'check.chooseConnection': 'Choose a connection.',
  'check.name': 'Enter a name for the connection.',
  'check.apiKey': 'Enter your {name} API key.',
  'check.secret': 'Enter the secret.',
  'check.username': 'Enter the username.',
  'check.password': 'Enter the password.',
  'check.certificate': 'Paste the certificate (PEM).',
  'check.key': 'Paste the private key (PEM).',
  'check.clientId': 'Enter the client ID.',
  'check.clientSecret': 'Enter the client secret.',
  'check.oauth': 'Connect your account to continue.',
  'check.required': 'Required.',
  'check.variable': 'Enter {name}.',
  'scheme.none': 'No credentials needed',
  'scheme.apiKey': 'API key',
  'scheme.basic': 'Username and password',
  'scheme.certificate': 'Client certificate',
  'scheme.hmac': 'Signing secret',
  'scheme.oauth2Password': 'Username and password (OAuth2)',
  'scheme.oauth2': 'Sign in with OAuth2',
  'scheme.other': 'Credentials',
  'value.yes': 'Yes',
  'value.no': 'No',
  'grid.listLabel': 'Integrations',
  'wizard.stepsLabel': 'Steps',
  'saved.removeLabel': 'Remove {name}',
  'saved.confirmLabel': 'Confirm: remove {name}',
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
