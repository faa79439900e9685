/** The Switchyard API, as the hub page uses it. Every call sends the session's bearer token
 * (`Authorization: Bearer <token>`; in Platform API v2 mode `Authorization: JWT <token>`). */
import type { ApiErrorBody } from './errors';
import { t } from './messages';
import type {
  Activation,
  ActivationCreate,
  ActivationPage,
  ConnectionChoice,
  ConnectionPage,
  DynamicVariablesBody,
  EmbeddedIntegration,
  HubSessionInfo,
  InitialiseOAuth2Response,
  IntegrationPage,
  IntegrationSummary,
  SavedConnection,
  SavedConnectionsPage,
} from './types';

/** The API answered with an error. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly body: ApiErrorBody,
  ) {
    super(body.message || `Request failed (${status})`);
    this.name = 'ApiError';
  }
}

/** The request never got an answer (fetch threw). */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super(t('error.network'));
    this.name = 'NetworkError';
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  return !!v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string';
}

const enc = encodeURIComponent;

export class Api {
  constructor(
    private readonly token: string,
    private readonly base = '',
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
    /** The scheme of the Authorization header: `Bearer` (API keys, hub sessions) or `JWT` (end-user tokens). */
    private readonly authScheme: 'Bearer' | 'JWT' = 'Bearer',
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `${this.authScheme} ${this.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (e) {
      throw new NetworkError(e);
    }
    if (res.status === 204) return undefined as T;
    let json: unknown = undefined;
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (!res.ok) {
      const errBody: ApiErrorBody = isErrorBody(json)
        ? json
        : { code: String(res.status * 1000), message: res.statusText ? `${res.status} ${res.statusText}` : `Request failed (${res.status})` };
      throw new ApiError(res.status, errBody);
    }
    return json as T;
  }

  async listIntegrations(hub: string, user: string): Promise<{ integrations: IntegrationSummary[]; totalConnected: number }> {
    const all: IntegrationSummary[] = [];
    let after = '';
    let totalConnected = 0;
    // Follows the pages (at most 20 of 100).
    for (let i = 0; i < 20; i++) {
      const q = `first=100${after ? `&after=${enc(after)}` : ''}`;
      const page = await this.request<IntegrationPage>('GET', `/api/embedded/v1/embed/${enc(hub)}/users/${enc(user)}/integrations?${q}`);
      all.push(...(page.integrations ?? []));
      totalConnected = page.totalConnected ?? totalConnected;
      if (!page.next) break;
      after = page.next;
    }
    return { integrations: all, totalConnected };
  }

  getIntegration(hub: string, user: string, integrationId: string): Promise<EmbeddedIntegration> {
    return this.request('GET', `/api/embedded/v1/embed/${enc(hub)}/users/${enc(user)}/integrations/${enc(integrationId)}`);
  }

  listActivations(hub: string, user: string, integrationId: string): Promise<ActivationPage> {
    return this.request('GET', `/api/embedded/v1/embed/${enc(hub)}/users/${enc(user)}/activations?integration_id=${enc(integrationId)}`);
  }

  getActivation(id: string): Promise<Activation> {
    return this.request('GET', `/api/embedded/v1/activations/${enc(id)}`);
  }

  /** The user's connections to a connector; none when the user does not exist yet (404). */
  async listConnections(hub: string, user: string, connectorId: string): Promise<ConnectionPage['connections']> {
    try {
      const page = await this.request<ConnectionPage>(
        'GET',
        `/api/embedded/v1/hubs/${enc(hub)}/users/${enc(user)}/connections?first=100&hub_connector_id=${enc(connectorId)}`,
      );
      return page.connections ?? [];
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }

  /** The user's saved connections, with the integrations that use each (none for an unknown user). */
  async listSavedConnections(hub: string, user: string): Promise<SavedConnection[]> {
    const page = await this.request<SavedConnectionsPage>('GET', `/api/embedded/v1/embed/${enc(hub)}/users/${enc(user)}/saved-connections`);
    return page.connections ?? [];
  }

  removeSavedConnection(hub: string, user: string, connectionId: string): Promise<void> {
    return this.request('DELETE', `/api/embedded/v1/embed/${enc(hub)}/users/${enc(user)}/saved-connections/${enc(connectionId)}`);
  }

  activate(body: ActivationCreate): Promise<Activation> {
    return this.request('POST', '/api/embedded/v1/activations', body);
  }

  updateVariables(activationId: string, dynamicVariables: Record<string, unknown>): Promise<DynamicVariablesBody> {
    const body: DynamicVariablesBody = { dynamicVariables };
    return this.request('PUT', `/api/embedded/v1/activations/${enc(activationId)}/variables`, body);
  }

  deactivate(activationId: string): Promise<void> {
    return this.request('DELETE', `/api/embedded/v1/activations/${enc(activationId)}`);
  }

  replaceConnection(activationId: string, templateId: string, choice: ConnectionChoice): Promise<Activation> {
    return this.request('PUT', `/api/embedded/v1/activations/${enc(activationId)}/connections/${enc(templateId)}`, choice);
  }

  async oauthInitialise(hub: string, connectorId: string, body: Record<string, unknown>): Promise<string> {
    const res = await this.request<Partial<InitialiseOAuth2Response> | undefined>('POST', `/api/embedded/v1/embed/${enc(hub)}/connector/${enc(connectorId)}/oauth2/initialise`, body);
    if (!res || typeof res.url !== 'string') throw new Error(t('oauth.noUrl'));
    return res.url;
  }

  /** Whom the token acts for (`GET /api/embedded/v1/session`): its organisation, and a session's hub and user. */
  session(): Promise<HubSessionInfo> {
    return this.request('GET', '/api/embedded/v1/session');
  }
}

export const SESSION_ENDED = 'Your session has ended. Open the integrations page from your application again.';

/** A sentence for any error a call may throw. */
export function describeError(e: unknown): string {
  if (e instanceof NetworkError) return e.message;
  if (e instanceof ApiError) {
    if (e.status === 401) return t('session.ended');
    return e.body.message || e.message;
  }
  if (e instanceof Error) return e.message;
  return t('error.generic');
}
