/**
 * Platform API v2's shapes, as the hub page reads and writes them, and the conversions between
 * v2's wrapper encoding and v1's flat one (versori-api.md §6.2), which the page's forms understand.
 */
import type { components } from './openapi';
import type { Assignable, AuthSchemeConfig, ConnectionChoice, CredentialCreate, Narrow, NewConnection } from './types';

type Schemas = components['schemas'];

/** A v2 `AuthSchemeConfig`: `{type: "api-key", apiKey: {id, name, in, ...}}`, one sub-object named by the type. */
export interface V2AuthSchemeConfig {
  type: string;
  [key: string]: unknown;
}

// The v2 shapes below are the generated schema types (`src/openapi.ts`), narrowed to what the page
// reads; what the server marks required but the page can do without is optional here.

/** `status`: `running` (deployed), `suspended`, `error` or `draft`. */
export type V2Environment = Pick<Schemas['v2.ProjectEnvironment'], 'id' | 'status'> & Partial<Pick<Schemas['v2.ProjectEnvironment'], 'name' | 'publicUrl'>>;

/** An entry of `GET /o/{org}/projects` → `projects[]`. */
export type V2ProjectSummary = Narrow<Pick<Schemas['v2.ProjectSummary'], 'id' | 'name' | 'environments'>, { environments: V2Environment[] }>;

/** `GET /o/{org}/projects/{id}`. */
export type V2Project = V2ProjectSummary & Partial<Pick<Schemas['v2.Project'], 'dynamicVariablesSchema'>>;

/** An item of `GET /o/{org}/projects/{id}/connection-templates`: `id` is the system's id. */
export type V2ConnectionTemplate = Narrow<
  Pick<Schemas['v2.ConnectionTemplate'], 'id' | 'connectionTemplateId' | 'name' | 'dynamic' | 'authSchemeConfigs'>,
  { authSchemeConfigs: V2AuthSchemeConfig[] }
> &
  Partial<Pick<Schemas['v2.ConnectionTemplate'], 'templateBaseUrl' | 'domain'>>;

/** A v2 `Credential` as the page sends it: `data` wrapped in a key named by the type. */
export type V2Credential = {
  name: string;
  type: string;
  data: Record<string, Record<string, unknown>>;
};

export type V2ConnectionCredential = {
  authSchemeConfig: V2AuthSchemeConfig;
  credential: V2Credential;
};

/** `ConnectionCreate` (v2). */
export type V2ConnectionCreate = Narrow<Pick<Schemas['v2.ConnectionCreate'], 'name' | 'credentials'>, { credentials: V2ConnectionCredential[] }> &
  Partial<Pick<Schemas['v2.ConnectionCreate'], 'baseUrl'>>;

/** A v2 `Connection` as reads show it (credentials redacted). */
export type V2Connection = Pick<Schemas['v2.Connection'], 'id' | 'name'> & Partial<Pick<Schemas['v2.Connection'], 'systemId' | 'connectionTemplateId' | 'baseUrl'>>;

/** A v2 `Activation`. */
export type V2Activation = Pick<Schemas['v2.Activation'], 'id'> &
  Partial<
    Narrow<
      Pick<Schemas['v2.Activation'], 'user' | 'environment' | 'connections' | 'dynamicVariables'>,
      { user: Pick<Schemas['v2.EndUser'], 'id' | 'externalId'>; environment: Pick<Schemas['v2.ProjectEnvironment'], 'id'>; connections: V2Connection[] }
    >
  >;

/** An entry of `ActivationCreate.connections`. */
export type V2ActivationConnection = Pick<Schemas['v2.ActivationConnectionCreate'], 'connectionTemplateId'> &
  ({ connection: V2ConnectionCreate } | { existingConnectionId: string });

/** `ActivationCreate`. */
export type V2ActivationCreate = Narrow<
  Pick<Schemas['v2.ActivationCreate'], 'userId' | 'environmentId' | 'connections' | 'dynamicVariables'>,
  { connections: V2ActivationConnection[]; dynamicVariables: Record<string, unknown> }
>;

/** What the server answers is what the page reads, and what the page sends is what the server
 * accepts (checked when type checking, nothing at run time). */
export type V2ShapeChecks = [
  Assignable<Schemas['v2.ProjectSummary'], V2ProjectSummary>,
  Assignable<Schemas['v2.Project'], V2Project>,
  Assignable<Schemas['v2.Connection'], V2Connection>,
  Assignable<V2ConnectionCreate, Schemas['v2.ConnectionCreate']>,
  Assignable<V2ActivationCreate, Schemas['v2.ActivationCreate']>,
];

/** v1 scheme type → the key of v2's sub-object. */
const SCHEME_KEYS: Record<string, string> = {
  none: 'none',
  'api-key': 'apiKey',
  'basic-auth': 'basicAuth',
  oauth2: 'oauth2',
  oauth1: 'oauth1',
  hmac: 'hmac',
  certificate: 'certificate',
};

/** v2 grant type → v1 grant type, and back. */
const GRANT_V1: Record<string, string> = {
  authorizationCode: 'authorization_code',
  clientCredentials: 'client_credentials',
  password: 'password',
};
const GRANT_V2: Record<string, string> = Object.fromEntries(Object.entries(GRANT_V1).map(([a, b]) => [b, a]));

/** v1 credential type → the key of v2's credential data. */
export const CREDENTIAL_DATA_KEYS: Record<string, string> = {
  none: 'none',
  string: 'string',
  binary: 'binary',
  'basic-auth': 'basicAuth',
  'oauth2-client': 'oauth2Client',
  'oauth2-code': 'oauth2Code',
  'oauth2-password': 'oauth2Password',
  'oauth2-token': 'oauth2Token',
  certificate: 'certificate',
  oauth1: 'oauth1',
  'oauth1-token': 'oauth1Token',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** A v2 wrapper scheme → v1's flat scheme (every property kept; the grant flattened too). */
export function schemeFromV2(v2: V2AuthSchemeConfig): AuthSchemeConfig {
  const type = String(v2.type ?? 'none');
  const key = SCHEME_KEYS[type] ?? type;
  const inner = isObject(v2[key]) ? (v2[key] as Record<string, unknown>) : {};
  const flat: Record<string, unknown> = { id: '', ...inner, schemeType: type };
  if (type === 'oauth2') {
    const grant = isObject(inner.grant) ? inner.grant : {};
    const gtype = typeof grant.type === 'string' ? grant.type : 'authorizationCode';
    const g = isObject(grant[gtype]) ? (grant[gtype] as Record<string, unknown>) : {};
    flat.grant = { ...g, grantType: GRANT_V1[gtype] ?? gtype };
  }
  return flat as unknown as AuthSchemeConfig;
}

/** v1's flat scheme → the v2 wrapper (the inverse of `schemeFromV2`; the grant keeps `grantType`
 * inside its object, as v2 reads show it and Versori's schema requires). */
export function schemeToV2(flat: AuthSchemeConfig): V2AuthSchemeConfig {
  const { schemeType, ...rest } = flat as AuthSchemeConfig & Record<string, unknown>;
  const inner: Record<string, unknown> = { ...rest };
  if (schemeType === 'oauth2' && isObject(inner.grant)) {
    const g = inner.grant as Record<string, unknown>;
    const v1 = String(g.grantType ?? 'authorization_code');
    const gtype = GRANT_V2[v1] ?? v1;
    inner.grant = { type: gtype, [gtype]: { ...g } };
  }
  return { type: schemeType, [SCHEME_KEYS[schemeType] ?? schemeType]: inner };
}

/** A v1 `CredentialCreate` → a v2 `Credential` (`data` wrapped in the type's key). */
export function credentialToV2(c: CredentialCreate): V2Credential {
  const key = CREDENTIAL_DATA_KEYS[c.type] ?? c.type;
  return { name: c.name, type: c.type, data: { [key]: { ...(c.data ?? {}) } } };
}

/** A v2 `Credential` → v1's `CredentialCreate` (the inverse of `credentialToV2`). */
export function credentialFromV2(c: V2Credential): CredentialCreate {
  const entries = Object.entries(c.data ?? {});
  const key = CREDENTIAL_DATA_KEYS[c.type] ?? c.type;
  const inner = (c.data ?? {})[key] ?? (entries.length === 1 ? entries[0][1] : {});
  // The type is passed on as it came; the server refuses one it does not know.
  return { name: c.name, type: c.type as CredentialCreate['type'], data: { ...inner } };
}

/** A v1 `NewConnection` (what the connection form builds) → v2's `ConnectionCreate` named `name`.
 * v2 has no connection variables (the base URL override takes their place). */
export function connectionToV2(conn: NewConnection, name: string): V2ConnectionCreate {
  return {
    name,
    credentials: conn.credentials.action.map((cc) => ({ authSchemeConfig: schemeToV2(cc.authSchemeConfig), credential: credentialToV2(cc.credential) })),
  };
}

/** One entry of `ActivationCreate.connections` for a template and the form's choice. */
export function activationConnectionV2(connectionTemplateId: string, choice: ConnectionChoice, name: string): V2ActivationConnection {
  if ('connectionId' in choice) return { connectionTemplateId, existingConnectionId: choice.connectionId };
  return { connectionTemplateId, connection: connectionToV2(choice, name) };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (26 characters of Crockford base32: 48 bits of milliseconds, 80 random bits), for names
 * that must be unique, as the embed SDK names connections. */
export function ulid(now: number = Date.now(), random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  let time = '';
  let t = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = random(new Uint8Array(16));
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i] % 32];
  return time + rand;
}

/** The variables that differ between `before` and `after` (added or changed keys), for a PATCH. */
export function changedVariables(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after)) {
    if (v === undefined) continue;
    if (!(k in before) || JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}
