/** Building connections (new or reused) from what the user typed in a connection form. */
import type { ConnectionErrors, ConnectionFieldKey } from './errors';
import { t } from './messages';
import type { AuthSchemeConfig, ConnectionChoice, ConnectionTemplate, CredentialCreate } from './types';

/** What a connection form holds. */
export interface ConnectionFormState {
  mode: 'existing' | 'new';
  existingId: string;
  name: string;
  apiKey: string;
  username: string;
  password: string;
  certificate: string;
  key: string;
  ca: string;
  clientId: string;
  clientSecret: string;
  /** The result of the OAuth2 popup flow. */
  oauth: { code: string; state: string } | null;
  /** Connection variables by name. */
  variables: Record<string, string>;
}

export function initialConnectionForm(template: ConnectionTemplate, existingIds: string[] = []): ConnectionFormState {
  const variables: Record<string, string> = {};
  for (const v of template.variables ?? []) variables[v.name] = v.value ?? '';
  return {
    mode: existingIds.length ? 'existing' : 'new',
    existingId: existingIds[0] ?? '',
    name: template.name || 'Connection',
    apiKey: '',
    username: '',
    password: '',
    certificate: '',
    key: '',
    ca: '',
    clientId: '',
    clientSecret: '',
    oauth: null,
    variables,
  };
}

/** Whether the scheme is an OAuth2 authorization-code scheme (the popup flow). */
export function isOAuthCode(scheme: AuthSchemeConfig): boolean {
  return scheme.schemeType === 'oauth2' && scheme.grant?.grantType === 'authorization_code';
}

/** A short description of the scheme for people. */
export function describeScheme(scheme: AuthSchemeConfig): string {
  switch (scheme.schemeType) {
    case 'none':
      return t('scheme.none');
    case 'api-key':
      return t('scheme.apiKey');
    case 'basic-auth':
      return t('scheme.basic');
    case 'certificate':
      return t('scheme.certificate');
    case 'hmac':
      return t('scheme.hmac');
    case 'oauth2':
      if (scheme.grant?.grantType === 'client_credentials') return 'OAuth2 client credentials';
      if (scheme.grant?.grantType === 'password') return t('scheme.oauth2Password');
      return t('scheme.oauth2');
    default:
      return t('scheme.other');
  }
}

/** The credential (type and data) for a new connection, per auth scheme. */
export function buildCredential(scheme: AuthSchemeConfig, form: ConnectionFormState, name: string): CredentialCreate {
  switch (scheme.schemeType) {
    case 'none':
      return { name, type: 'none', data: {} };
    case 'api-key':
    case 'hmac':
      return { name, type: 'string', data: { value: form.apiKey } };
    case 'basic-auth':
      return { name, type: 'basic-auth', data: { username: form.username, password: form.password } };
    case 'certificate': {
      const data: Record<string, unknown> = { certificate: form.certificate, key: form.key };
      if (form.ca.trim()) data.ca = form.ca;
      return { name, type: 'certificate', data };
    }
    case 'oauth2': {
      const grant = scheme.grant?.grantType;
      if (grant === 'client_credentials') {
        const data: Record<string, unknown> = { clientId: form.clientId, clientSecret: form.clientSecret, tokenUrl: scheme.tokenUrl };
        if (scheme.defaultScopes?.length) data.scopes = scheme.defaultScopes;
        return { name, type: 'oauth2-client', data };
      }
      if (grant === 'password') {
        return { name, type: 'oauth2-password', data: { username: form.username, password: form.password } };
      }
      return { name, type: 'oauth2-code', data: form.oauth ? { code: form.oauth.code, state: form.oauth.state } : {} };
    }
    default:
      return { name, type: 'none', data: {} };
  }
}

/** The connection to send for one template: `{connectionId}` or a new connection. */
export function buildConnection(template: ConnectionTemplate, form: ConnectionFormState): ConnectionChoice {
  if (form.mode === 'existing' && form.existingId) return { connectionId: form.existingId };
  const name = form.name.trim() || template.name || 'Connection';
  return {
    name,
    credentials: {
      action: [{ authSchemeConfig: template.authSchemeConfig, credential: buildCredential(template.authSchemeConfig, form, name) }],
    },
    variables: (template.variables ?? []).map((v) => ({ name: v.name, value: form.variables[v.name] ?? '' })),
  };
}

/** The fields a new connection of this scheme asks for, in order. */
export function credentialFields(scheme: AuthSchemeConfig): ConnectionFieldKey[] {
  switch (scheme.schemeType) {
    case 'api-key':
    case 'hmac':
      return ['apiKey'];
    case 'basic-auth':
      return ['username', 'password'];
    case 'certificate':
      return ['certificate', 'key', 'ca'];
    case 'oauth2':
      if (scheme.grant?.grantType === 'client_credentials') return ['clientId', 'clientSecret'];
      if (scheme.grant?.grantType === 'password') return ['username', 'password'];
      return ['oauth'];
    default:
      return [];
  }
}

/** Checks a connection form before it is sent (the server checks again). */
export function validateConnectionForm(template: ConnectionTemplate, form: ConnectionFormState): ConnectionErrors {
  const errors: ConnectionErrors = {};
  if (form.mode === 'existing') {
    if (!form.existingId) errors.existing = [t('check.chooseConnection')];
    return errors;
  }
  if (!form.name.trim()) errors.name = [t('check.name')];
  const scheme = template.authSchemeConfig;
  const messages: Partial<Record<ConnectionFieldKey, string>> = {
    apiKey: scheme.schemeType === 'api-key' ? t('check.apiKey', { name: template.name }) : t('check.secret'),
    username: t('check.username'),
    password: t('check.password'),
    certificate: t('check.certificate'),
    key: t('check.key'),
    clientId: t('check.clientId'),
    clientSecret: t('check.clientSecret'),
  };
  for (const field of credentialFields(scheme)) {
    if (field === 'ca') continue; // optional
    if (field === 'oauth') {
      if (!form.oauth) errors.oauth = [t('check.oauth')];
      continue;
    }
    const value = form[field as 'apiKey'];
    if (typeof value === 'string' && !value.trim()) errors[field] = [messages[field] ?? t('check.required')];
  }
  for (const v of template.variables ?? []) {
    if (!(form.variables[v.name] ?? '').trim()) errors[`variable:${v.name}`] = [t('check.variable', { name: humaniseName(v.name) })];
  }
  return errors;
}

/** `tenant_subdomain` / `tenantSubdomain` → `tenant subdomain`. */
export function humaniseName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
}

/** Whether a connection form has any error. */
export function hasErrors(errors: ConnectionErrors | undefined): boolean {
  return !!errors && Object.values(errors).some((v) => v && v.length > 0);
}
