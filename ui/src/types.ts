/**
 * The API's shapes that the page reads and writes, by the names the page uses. Each is the
 * generated type of `openapi.json`'s schema (`src/openapi.ts`, `npm run types`; never edited by
 * hand), or derived from it where the page needs a narrower shape, so that a change of the
 * server's wire shapes that the page depends on fails the type check.
 */
import type { components } from './openapi';

type Schemas = components['schemas'];

/** `T` without the properties `K`, which must be properties of `T` (unlike `Omit`, a renamed
 * property is a type error). */
type Without<T, K extends keyof T> = Omit<T, K>;

/** `T` with the properties of `R` (each of which must be a property of `T`) typed as in `R`. */
export type Narrow<T, R extends { [K in keyof R]: K extends keyof T ? unknown : never }> = Omit<T, keyof R> & R;

/** Compiles only when `T` is assignable to `U`: what the page sends must be what the server
 * accepts, and what the server answers what the page reads. */
export type Assignable<T extends U, U> = T;

/** A tile. `environmentId` is the page's own: in Platform API v2 mode, the project's environment
 * (`environments[0]`) that users activate. */
export type IntegrationSummary = Schemas['EmbeddedIntegrationSummary'] & { environmentId?: string };

export type IntegrationPage = Schemas['EmbeddedIntegrationPage'];

export type OAuth2Scope = Schemas['OAuth2Scope'];

export type OAuth2Grant = Schemas['OAuth2Grant'];

/** Every scheme the server may send; the page handles those it has forms for and treats the rest
 * (OAuth 1.0a) as needing no input. */
export type AuthSchemeConfig = Schemas['AuthSchemeConfig'];

export type SchemeType = AuthSchemeConfig['schemeType'];

export type NameValue = Schemas['ConnectionVariable'];

/** A connection template as the wizard uses it: Versori's always-empty `connectionTemplates` left
 * out (v2 mode builds these from v2 templates). */
export type ConnectionTemplate = Without<Schemas['HubConnectionTemplate'], 'connectionTemplates'>;

export type EmbeddedIntegration = Narrow<Schemas['EmbeddedIntegration'], { connectionTemplates: ConnectionTemplate[] }> & {
  environmentId?: string;
};

export type EndUserActivation = Schemas['EndUserActivation'];

export type ActivationPage = Schemas['EndUserActivationPage'];

export type Activation = Schemas['Activation'];

export type ConnectionSummary = Schemas['ConnectionSummary'];

/** One of the user's saved connections, with the integrations that use it (manage view). */
export type SavedConnection = Schemas['SavedConnection'];

export type SavedConnectionsPage = Schemas['SavedConnectionsPage'];

export type ConnectionPage = Schemas['EndUserConnectionsPage'];

export type CredentialCreate = Schemas['CredentialCreate'];

/** A new connection as the connection form builds it: always one action credential and the
 * template's variables. */
export type NewConnection = Pick<Schemas['ConnectionCreate'], 'name'> & {
  credentials: { action: Schemas['ConnectionCredentialCreate'][] };
  variables: NameValue[];
};

/** One template's connection: an existing connection of the user, or a new one. */
export type ConnectionChoice = { connectionId: string } | NewConnection;

export type ActivationConnectionEntry = { templateId: string } & ConnectionChoice;

/** `POST /api/embedded/v1/activations` as the page sends it: one entry per template. */
export type ActivationCreate = Pick<Schemas['ActivationCreate'], 'userId' | 'integrationId'> & {
  connections: ActivationConnectionEntry[];
  dynamicVariables: Record<string, unknown>;
  /** Only when the activation creates the end user (see `HubBackend.primaryStep`). */
  primaryConnection?: NewConnection;
};

export type DynamicVariablesBody = Schemas['DynamicVariablesBody'];

export type InitialiseOAuth2Response = Schemas['InitialiseOAuth2ConnectionResponse'];

/** `GET /api/embedded/v1/session`. */
export type HubSessionInfo = Schemas['HubSessionInfo'];

/** The page's request bodies are the server's (checked when type checking, nothing at run time). */
export type RequestBodyChecks = [
  Assignable<NewConnection, Schemas['ConnectionCreate']>,
  Assignable<ActivationConnectionEntry, Schemas['ActivationConnectionCreate']>,
  Assignable<ActivationCreate, Schemas['ActivationCreate']>,
  Assignable<ConnectionChoice, Schemas['ActivationConnectionReplace']>,
];
