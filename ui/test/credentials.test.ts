import { describe, expect, test } from 'vitest';
import {
  buildConnection,
  buildCredential,
  credentialFields,
  hasErrors,
  humaniseName,
  initialConnectionForm,
  validateConnectionForm,
  type ConnectionFormState,
} from '../src/credentials';
import type { AuthSchemeConfig, ConnectionTemplate } from '../src/types';

const apiKey: AuthSchemeConfig = { id: 'k', schemeType: 'api-key', name: 'X-Api-Key', in: 'header' };
const basic: AuthSchemeConfig = { id: 'b', schemeType: 'basic-auth' };
const cert: AuthSchemeConfig = { id: 'c', schemeType: 'certificate' };
const oauthCode: AuthSchemeConfig = {
  id: 'o',
  schemeType: 'oauth2',
  authorizeUrl: 'https://idp.example/authorize',
  tokenUrl: 'https://idp.example/token',
  defaultScopes: ['read'],
  grant: { grantType: 'authorization_code', clientId: 'cid' },
};
const oauthClient: AuthSchemeConfig = { ...oauthCode, grant: { grantType: 'client_credentials' } } as AuthSchemeConfig;

function template(scheme: AuthSchemeConfig, variables: { name: string; value: string }[] = []): ConnectionTemplate {
  return { id: 'tpl_1', connectorId: 'con_1', name: 'CRM', imageUrl: '', isPrimary: false, isUsed: false, authSchemeConfig: scheme, variables };
}

function form(t: ConnectionTemplate, patch: Partial<ConnectionFormState> = {}): ConnectionFormState {
  return { ...initialConnectionForm(t), ...patch };
}

describe('initialConnectionForm', () => {
  test('defaults to a new connection named after the template, with the template variables', () => {
    const t = template(apiKey, [{ name: 'subdomain', value: 'acme' }]);
    const f = initialConnectionForm(t);
    expect(f.mode).toBe('new');
    expect(f.name).toBe('CRM');
    expect(f.variables).toEqual({ subdomain: 'acme' });
  });
  test('prefers an existing connection when the user has one', () => {
    const f = initialConnectionForm(template(apiKey), ['conn_1', 'conn_2']);
    expect(f.mode).toBe('existing');
    expect(f.existingId).toBe('conn_1');
  });
});

describe('buildCredential', () => {
  test('per scheme', () => {
    const t = template(apiKey);
    expect(buildCredential(apiKey, form(t, { apiKey: 's3cret' }), 'n')).toEqual({ name: 'n', type: 'string', data: { value: 's3cret' } });
    expect(buildCredential(basic, form(t, { username: 'u', password: 'p' }), 'n')).toEqual({
      name: 'n',
      type: 'basic-auth',
      data: { username: 'u', password: 'p' },
    });
    expect(buildCredential(cert, form(t, { certificate: 'C', key: 'K' }), 'n')).toEqual({ name: 'n', type: 'certificate', data: { certificate: 'C', key: 'K' } });
    expect(buildCredential(cert, form(t, { certificate: 'C', key: 'K', ca: 'CA' }), 'n').data).toEqual({ certificate: 'C', key: 'K', ca: 'CA' });
    expect(buildCredential(oauthCode, form(t, { oauth: { code: 'abc', state: 'st' } }), 'n')).toEqual({
      name: 'n',
      type: 'oauth2-code',
      data: { code: 'abc', state: 'st' },
    });
    expect(buildCredential(oauthClient, form(t, { clientId: 'i', clientSecret: 's' }), 'n')).toEqual({
      name: 'n',
      type: 'oauth2-client',
      data: { clientId: 'i', clientSecret: 's', tokenUrl: 'https://idp.example/token', scopes: ['read'] },
    });
    expect(buildCredential({ id: 'x', schemeType: 'none' }, form(t), 'n')).toEqual({ name: 'n', type: 'none', data: {} });
  });
});

describe('buildConnection', () => {
  test('a new connection carries the scheme, the credential and the variables', () => {
    const t = template(apiKey, [{ name: 'subdomain', value: '' }]);
    const c = buildConnection(t, form(t, { name: '  My CRM ', apiKey: 'k1', variables: { subdomain: 'acme' } }));
    expect(c).toEqual({
      name: 'My CRM',
      credentials: { action: [{ authSchemeConfig: apiKey, credential: { name: 'My CRM', type: 'string', data: { value: 'k1' } } }] },
      variables: [{ name: 'subdomain', value: 'acme' }],
    });
  });
  test('an existing connection is only its id', () => {
    const t = template(apiKey);
    expect(buildConnection(t, form(t, { mode: 'existing', existingId: 'conn_9' }))).toEqual({ connectionId: 'conn_9' });
  });
  test('an empty name falls back to the template name', () => {
    const t = template(apiKey);
    expect((buildConnection(t, form(t, { name: ' ', apiKey: 'k' })) as { name: string }).name).toBe('CRM');
  });
});

describe('validateConnectionForm', () => {
  test('names every missing field', () => {
    const t = template(basic, [{ name: 'tenantSubdomain', value: '' }]);
    const errs = validateConnectionForm(t, form(t, { name: '' }));
    expect(Object.keys(errs).sort()).toEqual(['name', 'password', 'username', 'variable:tenantSubdomain']);
    expect(errs['variable:tenantSubdomain']).toEqual(['Enter tenant subdomain.']);
    expect(hasErrors(errs)).toBe(true);
  });
  test('asks for the API key in words (the connector\'s name, never the header\'s)', () => {
    const t = template(apiKey);
    expect(validateConnectionForm(t, form(t)).apiKey).toEqual(['Enter your CRM API key.']);
    expect(hasErrors(validateConnectionForm(t, form(t, { apiKey: 'x' })))).toBe(false);
  });
  test('the CA of a certificate is optional', () => {
    const t = template(cert);
    expect(hasErrors(validateConnectionForm(t, form(t, { certificate: 'C', key: 'K' })))).toBe(false);
  });
  test('OAuth2 needs the popup to have finished', () => {
    const t = template(oauthCode);
    expect(validateConnectionForm(t, form(t)).oauth).toBeDefined();
    expect(hasErrors(validateConnectionForm(t, form(t, { oauth: { code: 'c', state: 's' } })))).toBe(false);
  });
  test('an existing connection must be chosen', () => {
    const t = template(apiKey);
    expect(validateConnectionForm(t, form(t, { mode: 'existing', existingId: '' }))).toEqual({ existing: ['Choose a connection.'] });
  });
});

test('credentialFields and humaniseName', () => {
  expect(credentialFields(cert)).toEqual(['certificate', 'key', 'ca']);
  expect(credentialFields(oauthCode)).toEqual(['oauth']);
  expect(credentialFields({ id: 'n', schemeType: 'none' })).toEqual([]);
  expect(humaniseName('tenant_subdomain')).toBe('tenant subdomain');
  expect(humaniseName('apiBaseURL')).toBe('api base url');
});
