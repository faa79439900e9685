/** The API's shapes that the page reads (see openapi.json). */

export interface IntegrationSummary {
  id: string;
  name: string;
  imageUrl: string;
  description: string;
  variablesSchema?: Record<string, unknown> | null;
  isDeployed: boolean;
  isActivated: boolean;
  /** Platform API v2 mode: the project's environment (`environments[0]`) that users activate. */
  environmentId?: string;
}

export interface IntegrationPage {
  totalCount: number;
  next: string;
  prev: string;
  integrations: IntegrationSummary[];
  totalConnected: number;
}

export interface OAuth2Scope {
  name: string;
  description?: string | null;
}

export type OAuth2Grant =
  | { grantType: 'authorization_code'; credentialId?: string | null; organisationId?: string | null; clientId?: string | null }
  | { grantType: 'client_credentials' }
  | { grantType: 'password'; credentialId?: string | null; organisationId?: string | null; clientId?: string | null };

interface SchemeBase {
  id: string;
  description?: string;
}

export type AuthSchemeConfig = SchemeBase &
  (
    | { schemeType: 'none' }
    | { schemeType: 'api-key'; name: string; in: 'header' | 'query' | 'cookie' }
    | { schemeType: 'basic-auth' }
    | { schemeType: 'certificate' }
    | { schemeType: 'hmac'; name: string; in: string; algorithm: string; digestInputs?: string[] }
    | {
        schemeType: 'oauth2';
        authorizeUrl: string;
        tokenUrl: string;
        scopes?: OAuth2Scope[];
        defaultScopes?: string[];
        additionalAuthorizeParams?: string | null;
        pkce?: boolean | null;
        grant: OAuth2Grant;
      }
  );

export type SchemeType = AuthSchemeConfig['schemeType'];

export interface NameValue {
  name: string;
  value: string;
}

export interface ConnectionTemplate {
  id: string;
  connectorId: string;
  name: string;
  imageUrl: string;
  isPrimary: boolean;
  isUsed: boolean;
  authSchemeConfig: AuthSchemeConfig;
  variables: NameValue[];
}

export interface EmbeddedIntegration extends IntegrationSummary {
  connectionTemplates: ConnectionTemplate[];
}

export interface EndUserActivation {
  id: string;
  hubId: string;
  integration: IntegrationSummary;
}

export interface ActivationPage {
  totalCount: number;
  next: string;
  prev: string;
  activations: EndUserActivation[];
}

export interface Activation {
  id: string;
  user: { id: string; externalId: string; displayName?: string };
  hubId: string;
  integration: IntegrationSummary;
  dynamicVariables: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionSummary {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectionPage {
  totalCount: number;
  next: string;
  prev: string;
  connections: ConnectionSummary[];
}

export interface CredentialCreate {
  name: string;
  type: string;
  data: Record<string, unknown>;
}

export interface NewConnection {
  name: string;
  credentials: { action: { authSchemeConfig: AuthSchemeConfig; credential: CredentialCreate }[] };
  variables: NameValue[];
}

export type ConnectionChoice = { connectionId: string } | NewConnection;

export type ActivationConnectionEntry = { templateId: string } & ConnectionChoice;
