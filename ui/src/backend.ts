/**
 * The hub page's data layer: what the grid, the wizard and the manage view need, whatever API is
 * behind it. `V1Backend` speaks Embedded API v1 (a hub session token); `V2Backend` (backendV2.ts)
 * speaks Platform API v2 with an end user's JWT. Both hand the components v1's shapes.
 */
import { Api } from './api';
import type { HubContext } from './fragment';
import { t } from './messages';
import type { ConnectionChoice, ConnectionSummary, ConnectionTemplate, EmbeddedIntegration, HubSessionInfo, IntegrationSummary, NewConnection, SavedConnection } from './types';

/** An activation as the manage view uses it. */
export interface HubActivation {
  id: string;
  dynamicVariables: Record<string, unknown>;
  /** v2: the connection serving each connection template (template id → connection). */
  connections?: Record<string, { id: string; name: string }>;
}

export interface HubBackend {
  readonly kind: 'v1' | 'v2';
  /** Whether the user names new connections (v1); in v2 they get a generated unique name. */
  readonly namesConnections: boolean;
  /** The integrations to show (deployed ones), and how many are connected. */
  listIntegrations(): Promise<{ integrations: IntegrationSummary[]; totalConnected: number }>;
  /** An integration with the connection templates the user must fill in, in order. */
  getIntegration(summary: IntegrationSummary): Promise<EmbeddedIntegration>;
  /** The user's connections that may serve a template (none when it cannot reuse any, or the user
   * does not exist yet: then nothing is asked). */
  listConnections(template: ConnectionTemplate): Promise<ConnectionSummary[]>;
  /** The step the wizard puts first when activating `integration` would create the user and
   * nothing in it names their primary connection (v1: the hub's primary connector); else null. */
  primaryStep(integration: EmbeddedIntegration): Promise<ConnectionTemplate | null>;
  /** Activates: one choice per template of `integration`, in order; `primary`, the new user's
   * primary connection when `primaryStep` asked for one. */
  activate(integration: EmbeddedIntegration, choices: ConnectionChoice[], dynamicVariables: Record<string, unknown>, primary?: NewConnection): Promise<{ id: string }>;
  /** The user's activation of an activated integration (an error when there is none). */
  getActivation(summary: IntegrationSummary): Promise<HubActivation>;
  /** Saves the variables; answers the activation's variables afterwards. */
  updateVariables(summary: IntegrationSummary, activation: HubActivation, dynamicVariables: Record<string, unknown>): Promise<Record<string, unknown>>;
  deactivate(summary: IntegrationSummary, activation: HubActivation): Promise<void>;
  /** Whether the connection serving `template` can be replaced. */
  canReplaceConnection(activation: HubActivation, template: ConnectionTemplate): boolean;
  /** Replaces the connection serving `template`; answers the activation afterwards. */
  replaceConnection(summary: IntegrationSummary, activation: HubActivation, template: ConnectionTemplate, choice: ConnectionChoice): Promise<HubActivation>;
  /** The user's saved connections with what uses them; null when this API has none to list (v2). */
  listSavedConnections(): Promise<SavedConnection[] | null>;
  /** Removes a saved connection nothing uses (the server refuses, saying why, otherwise). */
  removeSavedConnection(id: string): Promise<void>;
  /** Starts the OAuth2 authorization-code flow for a template's system; answers the authorize URL. */
  oauthInitialise(template: ConnectionTemplate, body: Record<string, unknown>): Promise<string>;
}

/** Embedded API v1, with a hub session token. */
export class V1Backend implements HubBackend {
  readonly kind = 'v1';
  readonly namesConnections = true;
  readonly api: Api;
  private sessionInfo: Promise<HubSessionInfo> | null = null;
  /** Whether the end user exists: learned from the session, true after an activation. */
  private userExists = false;

  constructor(
    private readonly context: HubContext,
    api?: Api,
  ) {
    this.api = api ?? new Api(context.token);
  }

  async listIntegrations() {
    const res = await this.api.listIntegrations(this.context.hub, this.context.user);
    return { integrations: res.integrations.filter((i) => i.isDeployed), totalConnected: res.totalConnected };
  }

  getIntegration(summary: IntegrationSummary) {
    return this.api.getIntegration(this.context.hub, this.context.user, summary.id);
  }

  private session(): Promise<HubSessionInfo> {
    if (!this.sessionInfo) {
      this.sessionInfo = this.api.session();
      this.sessionInfo.catch(() => (this.sessionInfo = null));
    }
    return this.sessionInfo;
  }

  /** Whether the end user exists (asked once; an activation makes it so). */
  async userKnown(): Promise<boolean> {
    if (this.userExists) return true;
    this.userExists = (await this.session()).endUserExists !== false;
    return this.userExists;
  }

  async listConnections(template: ConnectionTemplate) {
    if (!(await this.userKnown())) return [];
    return this.api.listConnections(this.context.hub, this.context.user, template.connectorId);
  }

  async primaryStep(integration: EmbeddedIntegration) {
    if (await this.userKnown()) return null;
    if (integration.connectionTemplates.some((t) => t.isPrimary)) return null;
    return (await this.session()).primaryConnectionTemplate ?? null;
  }

  async activate(integration: EmbeddedIntegration, choices: ConnectionChoice[], dynamicVariables: Record<string, unknown>, primary?: NewConnection) {
    const a = await this.api.activate({
      userId: this.context.user,
      integrationId: integration.id,
      connections: integration.connectionTemplates.map((t, i) => ({ templateId: t.id, ...choices[i] })),
      dynamicVariables,
      ...(primary ? { primaryConnection: primary } : {}),
    });
    this.userExists = true;
    return a;
  }

  async getActivation(summary: IntegrationSummary): Promise<HubActivation> {
    const page = await this.api.listActivations(this.context.hub, this.context.user, summary.id);
    const first = page.activations.find((a) => a.integration?.id === summary.id) ?? page.activations[0];
    if (!first) throw new Error(t('error.notActivated', { name: summary.name }));
    const a = await this.api.getActivation(first.id);
    return { id: a.id, dynamicVariables: a.dynamicVariables ?? {} };
  }

  async updateVariables(_summary: IntegrationSummary, activation: HubActivation, dynamicVariables: Record<string, unknown>) {
    const res = await this.api.updateVariables(activation.id, dynamicVariables);
    return res?.dynamicVariables ?? dynamicVariables;
  }

  deactivate(_summary: IntegrationSummary, activation: HubActivation) {
    return this.api.deactivate(activation.id);
  }

  canReplaceConnection() {
    return true;
  }

  async replaceConnection(_summary: IntegrationSummary, activation: HubActivation, template: ConnectionTemplate, choice: ConnectionChoice) {
    const a = await this.api.replaceConnection(activation.id, template.id, choice);
    return { ...activation, id: a?.id ?? activation.id, dynamicVariables: a?.dynamicVariables ?? activation.dynamicVariables };
  }

  async listSavedConnections() {
    if (!(await this.userKnown())) return [];
    return this.api.listSavedConnections(this.context.hub, this.context.user);
  }

  removeSavedConnection(id: string) {
    return this.api.removeSavedConnection(this.context.hub, this.context.user, id);
  }

  oauthInitialise(template: ConnectionTemplate, body: Record<string, unknown>) {
    return this.api.oauthInitialise(this.context.hub, template.connectorId, body);
  }
}
