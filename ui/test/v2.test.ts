import { describe, expect, test } from 'vitest';
import { buildConnection, buildCredential, initialConnectionForm } from '../src/credentials';
import { initialiseBody } from '../src/oauth';
import type { AuthSchemeConfig, ConnectionTemplate, CredentialCreate, NewConnection } from '../src/types';
import {
  activationConnectionV2,
  changedVariables,
  connectionToV2,
  credentialFromV2,
  credentialToV2,
  schemeFromV2,
  schemeToV2,
  ulid,
  type V2AuthSchemeConfig,
} from '../src/v2';

// As Switchyard's v2 reads show them (the grant keeps v1's grantType inside its object).
const v2ApiKey: V2AuthSchemeConfig = { type: 'api-key', apiKey: { id: 'apikey', description: 'API key', name: 'X-Api-Key', in: 'header' } };
const v2OAuth: V2AuthSchemeConfig = {
  type: 'oauth2',
  oauth2: {
    id: 'oauth',
    description: 'OAuth',
    authorizeUrl: 'https://auth.example/authorize',
    tokenUrl: 'https://auth.example/token',
    scopes: [{ name: 'read' }, { name: 'offline_access' }],
    defaultScopes: ['read'],
    additionalAuthorizeParams: 'audience=api',
    grant: {
      type: 'authorizationCode',
      authorizationCode: { grantType: 'authorization_code', clientId: 'cid-1', credentialId: '01CRED', organisationId: '01ORG' },
    },
  },
};

describe('schemeFromV2 / schemeToV2', () => {
  test('api-key: the wrapper becomes the flat form the forms read', () => {
    expect(schemeFromV2(v2ApiKey)).toEqual({ id: 'apikey', description: 'API key', schemeType: 'api-key', name: 'X-Api-Key', in: 'header' });
  });

  test('oauth2 authorization code: the grant is flattened, with v1 grant type', () => {
    const flat = schemeFromV2(v2OAuth);
    expect(flat).toMatchObject({
      id: 'oauth',
      schemeType: 'oauth2',
      authorizeUrl: 'https://auth.example/authorize',
      grant: { grantType: 'authorization_code', clientId: 'cid-1', credentialId: '01CRED', organisationId: '01ORG' },
    });
    // The initialise body is the same as in v1 mode.
    expect(initialiseBody(flat)).toEqual({
      credential: { id: '01CRED', organisationId: '01ORG' },
      authorizeUrl: 'https://auth.example/authorize',
      clientId: 'cid-1',
      scopes: ['read'],
      prompt: 'consent',
      disableOfflineAccess: true,
      additionalParams: 'audience=api',
    });
  });

  test('a grant without grantType inside (Versori’s form) reads the same', () => {
    const bare = structuredClone(v2OAuth);
    delete ((bare.oauth2 as { grant: { authorizationCode: Record<string, unknown> } }).grant.authorizationCode as Record<string, unknown>).grantType;
    expect(schemeFromV2(bare)).toEqual(schemeFromV2(v2OAuth));
  });

  test('other grants', () => {
    const cc = schemeFromV2({ type: 'oauth2', oauth2: { id: 'c', tokenUrl: 't', grant: { type: 'clientCredentials', clientCredentials: {} } } });
    expect(cc).toMatchObject({ schemeType: 'oauth2', grant: { grantType: 'client_credentials' } });
    const pw = schemeFromV2({ type: 'oauth2', oauth2: { id: 'p', grant: { type: 'password', password: { clientId: 'x' } } } });
    expect(pw).toMatchObject({ grant: { grantType: 'password', clientId: 'x' } });
    expect(schemeToV2(cc)).toEqual({ type: 'oauth2', oauth2: { id: 'c', tokenUrl: 't', grant: { type: 'clientCredentials', clientCredentials: { grantType: 'client_credentials' } } } });
  });

  test('schemes without a body: none, basic-auth, certificate', () => {
    expect(schemeFromV2({ type: 'basic-auth', basicAuth: { id: 'b' } })).toEqual({ id: 'b', schemeType: 'basic-auth' });
    expect(schemeFromV2({ type: 'certificate' })).toEqual({ id: '', schemeType: 'certificate' });
    expect(schemeFromV2({ type: 'none', none: { id: 'n' } })).toEqual({ id: 'n', schemeType: 'none' });
    expect(schemeToV2({ id: 'b', schemeType: 'basic-auth' })).toEqual({ type: 'basic-auth', basicAuth: { id: 'b' } });
    expect(schemeToV2({ id: 'c', schemeType: 'certificate' })).toEqual({ type: 'certificate', certificate: { id: 'c' } });
    expect(schemeToV2({ id: 'h', schemeType: 'hmac', name: 'X-Sig', in: 'header', algorithm: 'sha256' })).toEqual({
      type: 'hmac',
      hmac: { id: 'h', name: 'X-Sig', in: 'header', algorithm: 'sha256' },
    });
  });

  test('round trips give back exactly what the server sent', () => {
    for (const s of [v2ApiKey, v2OAuth, { type: 'basic-auth', basicAuth: { id: 'b', description: 'd' } }, { type: 'none', none: { id: 'n' } }]) {
      expect(schemeToV2(schemeFromV2(s))).toEqual(s);
    }
    const flat: AuthSchemeConfig = { id: 'k', schemeType: 'api-key', name: 'X-K', in: 'query' };
    expect(schemeFromV2(schemeToV2(flat))).toEqual(flat);
  });
});

describe('credentialToV2 / credentialFromV2', () => {
  test('every key of the brief', () => {
    const cases: [CredentialCreate['type'], Record<string, unknown>, string][] = [
      ['string', { value: 'k' }, 'string'],
      ['basic-auth', { username: 'u', password: 'p' }, 'basicAuth'],
      ['oauth2-code', { code: 'c', state: 's' }, 'oauth2Code'],
      ['certificate', { certificate: 'C', key: 'K' }, 'certificate'],
      ['binary', { valueBase64: 'AA==' }, 'binary'],
      ['none', {}, 'none'],
      ['oauth2-client', { clientId: 'i', clientSecret: 's', tokenUrl: 't' }, 'oauth2Client'],
      ['oauth2-password', { username: 'u', password: 'p' }, 'oauth2Password'],
    ];
    for (const [type, data, key] of cases) {
      const v2 = credentialToV2({ name: 'n', type, data });
      expect(v2).toEqual({ name: 'n', type, data: { [key]: data } });
      expect(credentialFromV2(v2)).toEqual({ name: 'n', type, data });
    }
  });

  test('the credentials the forms build, in v2 form', () => {
    const scheme = schemeFromV2(v2ApiKey);
    const t: ConnectionTemplate = { id: 'tpl', connectorId: 'sys', name: 'crm', imageUrl: '', isPrimary: false, isUsed: false, authSchemeConfig: scheme, variables: [] };
    const form = { ...initialConnectionForm(t), apiKey: 's3cr3t' };
    expect(credentialToV2(buildCredential(scheme, form, 'crm'))).toEqual({ name: 'crm', type: 'string', data: { string: { value: 's3cr3t' } } });
    const oauth = schemeFromV2(v2OAuth);
    const code = buildCredential(oauth, { ...form, oauth: { code: 'the-code', state: 'the-state' } }, 'chat');
    expect(credentialToV2(code)).toEqual({ name: 'chat', type: 'oauth2-code', data: { oauth2Code: { code: 'the-code', state: 'the-state' } } });
  });
});

describe('connectionToV2 / activationConnectionV2', () => {
  const scheme = schemeFromV2(v2ApiKey);
  const t: ConnectionTemplate = { id: 'tpl_1', connectorId: 'sys_1', name: 'crm', imageUrl: '', isPrimary: false, isUsed: false, authSchemeConfig: scheme, variables: [] };

  test('a new connection: the v2 wrapper scheme, the wrapped credential, the given name', () => {
    const choice = buildConnection(t, { ...initialConnectionForm(t), apiKey: 'k1' }) as NewConnection;
    expect(connectionToV2(choice, '01HNAME')).toEqual({
      name: '01HNAME',
      credentials: [{ authSchemeConfig: v2ApiKey, credential: { name: 'crm', type: 'string', data: { string: { value: 'k1' } } } }],
    });
    expect(activationConnectionV2('tpl_1', choice, '01HNAME')).toEqual({ connectionTemplateId: 'tpl_1', connection: connectionToV2(choice, '01HNAME') });
  });

  test('an existing connection', () => {
    expect(activationConnectionV2('tpl_1', { connectionId: 'conn_9' }, 'unused')).toEqual({ connectionTemplateId: 'tpl_1', existingConnectionId: 'conn_9' });
  });
});

describe('ulid', () => {
  test('26 Crockford characters, time first, unique', () => {
    const a = ulid();
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(Array.from({ length: 200 }, () => ulid())).size).toBe(200);
    expect(ulid(0, (b) => b).slice(0, 10)).toBe('0000000000');
    expect(ulid(1469918176385, (b) => b.fill(0))).toBe('01ARYZ6S410000000000000000');
    expect(ulid(2000) > ulid(1000)).toBe(true);
  });
});

describe('changedVariables', () => {
  test('only added or changed keys', () => {
    expect(changedVariables({ region: 'eu', batch: 10, tags: ['a'] }, { region: 'eu', batch: 20, tags: ['a'], extra: true })).toEqual({ batch: 20, extra: true });
    expect(changedVariables({ a: { b: 1 } }, { a: { b: 2 } })).toEqual({ a: { b: 2 } });
    expect(changedVariables({ a: 1 }, { a: 1 })).toEqual({});
    expect(changedVariables({}, { a: undefined })).toEqual({});
  });
});
