/**
 * The hub page on Platform API v2, with an end user's JWT (`Authorization: JWT <token>`): exactly
 * the calls of Versori's embed SDK (`@versori/embed` 2.x, versori-api.md §7.2 and §8.2 step 3).
 * Projects are the integrations (their `environments[0]`), their dynamic connection templates the
 * wizard's connection steps.
 */
import { Api, ApiError } from './api';
import type { HubActivation, HubBackend } from './backend';
import type { HubContextV2 } from './fragment';
import type { ConnectionChoice, ConnectionTemplate, EmbeddedIntegration, IntegrationSummary } from './types';
import { t } from './messages';
import {
  activationConnectionV2,
  changedVariables,
  connectionToV2,
  schemeFromV2,
  ulid,
  type V2Activation,
  type V2ActivationCreate,
  type V2Connection,
  type V2ConnectionTemplate,
  type V2Project,
  type V2ProjectSummary,
} from './v2';

const enc = encodeURIComponent;

/** A project as a tile. Projects have no image or description. */
export function projectToSummary(p: V2ProjectSummary, isActivated: boolean): IntegrationSummary {
  const env = p.environments?.[0];
  return {
    id: p.id,
    name: p.name,
    imageUrl: '',
    description: '',
    isDeployed: env?.status === 'running',
    isActivated,
    environmentId: env?.id,
  };
}

/** A dynamic v2 connection template as the connection form's template (v1's shape; its first auth
 * scheme, as the embed SDK uses it). `id` is the template's id, `connectorId` its system's. */
export function templateFromV2(t: V2ConnectionTemplate): ConnectionTemplate {
  return {
    id: t.connectionTemplateId,
    connectorId: t.id,
    name: t.name,
    imageUrl: '',
    isPrimary: false,
    isUsed: false,
    authSchemeConfig: schemeFromV2(t.authSchemeConfigs?.[0] ?? { type: 'none', none: { id: '' } }),
    variables: [],
  };
}

/** A v2 activation as the manage view uses it. */
export function activationFromV2(a: V2Activation): HubActivation {
  const connections: Record<string, { id: string; name: string }> = {};
  for (const c of a.connections ?? []) {
    if (c.connectionTemplateId && !connections[c.connectionTemplateId]) connections[c.connectionTemplateId] = { id: c.id, name: c.name };
  }
  return { id: a.id, dynamicVariables: a.dynamicVariables ?? {}, connections };
}

export class V2Backend implements HubBackend {
  readonly kind = 'v2';
  readonly namesConnections = false;
  readonly api: Api;
  /** Whether the end user is known to exist (created lazily before the first activation). */
  private userExists = false;

  constructor(
    private readonly context: HubContextV2,
    api?: Api,
    /** Names new connections (unique names; the embed SDK uses ULIDs). */
    private readonly newName: () => string = () => ulid(),
  ) {
    this.api = api ?? new Api(context.jwt, '', undefined, 'JWT');
  }

  private get o(): string {
    return `/api/v2/o/${enc(this.context.org)}`;
  }

  private env(summary: IntegrationSummary): string {
    if (!summary.environmentId) throw new Error(t('error.noEnvironment', { name: summary.name }));
    return summary.environmentId;
  }

  /** The user's activations of an environment (`/environment/`, singular, as in Versori's API). */
  private userActivations(envId: string): Promise<V2Activation[]> {
    return this.api.request<V2Activation[]>('GET', `${this.o}/environment/${enc(envId)}/users/${enc(this.context.user)}/activations`).then((l) => l ?? []);
  }

  /** Creates the end user unless it is known to exist (`displayName: "<sub>_primary"`, as the SDK
   * does). No request is made that answers an error before the user exists: the user is not
   * looked up (a 404) but created, a 409 meaning it existed already (another tab). */
  async ensureUser(): Promise<void> {
    if (this.userExists) return;
    try {
      await this.api.request('POST', `${this.o}/users`, { externalId: this.context.user, displayName: `${this.context.user}_primary` });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409)) throw e;
    }
    this.userExists = true;
  }

  async listIntegrations() {
    const res = await this.api.request<{ projects?: V2ProjectSummary[] }>('GET', `${this.o}/projects`);
    const deployed = (res?.projects ?? []).filter((p) => p.environments?.[0]?.status === 'running');
    const activations = await Promise.all(deployed.map((p) => this.userActivations(p.environments[0].id)));
    const integrations = deployed.map((p, i) => projectToSummary(p, activations[i].length > 0));
    // A user with an activation exists.
    if (integrations.some((i) => i.isActivated)) this.userExists = true;
    return { integrations, totalConnected: integrations.filter((i) => i.isActivated).length };
  }

  async getIntegration(summary: IntegrationSummary): Promise<EmbeddedIntegration> {
    const projectPath = `${this.o}/projects/${enc(summary.id)}`;
    let project: V2Project;
    let envId = summary.environmentId;
    let templates: { items?: V2ConnectionTemplate[] };
    if (envId) {
      [project, templates] = await Promise.all([
        this.api.request<V2Project>('GET', projectPath),
        this.api.request<{ items?: V2ConnectionTemplate[] }>('GET', `${projectPath}/connection-templates?env_id=${enc(envId)}`),
      ]);
    } else {
      project = await this.api.request<V2Project>('GET', projectPath);
      envId = project.environments?.[0]?.id;
      if (!envId) throw new Error(t('error.noEnvironment', { name: summary.name }));
      templates = await this.api.request('GET', `${projectPath}/connection-templates?env_id=${enc(envId)}`);
    }
    return {
      ...summary,
      name: project.name ?? summary.name,
      environmentId: envId,
      variablesSchema: project.dynamicVariablesSchema ?? null,
      // Static templates are served by the environment's static connection.
      connectionTemplates: (templates?.items ?? []).filter((t) => t.dynamic === true).map(templateFromV2),
    };
  }

  /** v2 mode makes a new connection for every activation, as the embed SDK does. */
  async listConnections() {
    return [];
  }

  /** v2 mode makes a connection per activation: there are no saved connections to manage. */
  async listSavedConnections() {
    return null;
  }

  async removeSavedConnection() {
    throw new Error(t('error.noSavedConnections'));
  }

  /** v2 end users have no primary connection. */
  async primaryStep() {
    return null;
  }

  async activate(integration: EmbeddedIntegration, choices: ConnectionChoice[], dynamicVariables: Record<string, unknown>) {
    await this.ensureUser();
    const body: V2ActivationCreate = {
      userId: this.context.user,
      environmentId: this.env(integration),
      connections: integration.connectionTemplates.map((t, i) => activationConnectionV2(t.id, choices[i], this.newName())),
      dynamicVariables,
    };
    return this.api.request<V2Activation>('POST', `${this.o}/activations`, body);
  }

  async getActivation(summary: IntegrationSummary): Promise<HubActivation> {
    const list = await this.userActivations(this.env(summary));
    if (!list[0]) throw new Error(t('error.notActivated', { name: summary.name }));
    return activationFromV2(list[0]);
  }

  /** PATCHes the variables that changed (v2's SetDynamicVariables merges); answers the merged ones. */
  async updateVariables(summary: IntegrationSummary, activation: HubActivation, dynamicVariables: Record<string, unknown>) {
    const patch = changedVariables(activation.dynamicVariables, dynamicVariables);
    if (Object.keys(patch).length === 0) return activation.dynamicVariables;
    const merged = await this.api.request<Record<string, unknown>>(
      'PATCH',
      `${this.o}/environments/${enc(this.env(summary))}/activations/${enc(activation.id)}/variables`,
      patch,
    );
    return merged ?? { ...activation.dynamicVariables, ...patch };
  }

  deactivate(summary: IntegrationSummary, activation: HubActivation) {
    return this.api.request<void>('DELETE', `${this.o}/environments/${enc(this.env(summary))}/activations/${enc(activation.id)}`);
  }

  canReplaceConnection(activation: HubActivation, template: ConnectionTemplate) {
    return !!activation.connections?.[template.id];
  }

  /** Replaces the credentials of the user's connection serving the template (`PUT /connections/{id}`,
   * its name kept, the system's base URL). */
  async replaceConnection(_summary: IntegrationSummary, activation: HubActivation, template: ConnectionTemplate, choice: ConnectionChoice) {
    const current = activation.connections?.[template.id];
    if (!current) throw new Error(t('error.noConnection', { name: template.name }));
    if ('connectionId' in choice) throw new Error(t('error.newCredentials'));
    const c = await this.api.request<V2Connection>('PUT', `${this.o}/connections/${enc(current.id)}`, { ...connectionToV2(choice, current.name), baseUrl: '' });
    return { ...activation, connections: { ...activation.connections, [template.id]: { id: c?.id ?? current.id, name: c?.name ?? current.name } } };
  }

  async oauthInitialise(template: ConnectionTemplate, body: Record<string, unknown>) {
    const res = await this.api.request<{ url?: string }>('POST', `${this.o}/systems/${enc(template.connectorId)}/oauth2/initialise`, body);
    if (!res || typeof res.url !== 'string') throw new Error(t('oauth.noUrl'));
    return res.url;
  }
}
