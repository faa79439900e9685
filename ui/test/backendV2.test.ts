import { describe, expect, test } from 'vitest';
import { Api, ApiError } from '../src/api';
import { V1Backend } from '../src/backend';
import { activationFromV2, projectToSummary, templateFromV2, V2Backend } from '../src/backendV2';
import type { HubContext, HubContextV2 } from '../src/fragment';
import type { ConnectionChoice, EmbeddedIntegration } from '../src/types';

type Call = { method: string; url: string; body: unknown; auth: string };

/** A fake fetch answering by `METHOD path` (the first matching route, each used in order). */
function server(routes: Record<string, (Response | (() => Response))[]>) {
  const calls: Call[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    const method = init.method ?? 'GET';
    calls.push({ method, url, body: init.body ? JSON.parse(String(init.body)) : undefined, auth: (init.headers as Record<string, string>).Authorization });
    const list = routes[`${method} ${url}`];
    const next = list?.shift();
    if (!next) throw new Error(`unexpected ${method} ${url}`);
    return typeof next === 'function' ? next() : next;
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const json = (status: number, body?: unknown) => () =>
  body === undefined ? new Response(null, { status }) : new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const ctx: HubContextV2 = { mode: 'v2', jwt: 'h.p.s', org: 'ORG', user: 'erin@x', expiresAt: null, origin: null, theme: {} };
const o = '/api/v2/o/ORG';
const apiKeyScheme = { type: 'api-key', apiKey: { id: 'apikey', name: 'X-Api-Key', in: 'header' } };

function backend(routes: Record<string, (Response | (() => Response))[]>) {
  const s = server(routes);
  const names = ['01NAMEA', '01NAMEB'];
  return { b: new V2Backend(ctx, new Api(ctx.jwt, '', s.fn, 'JWT'), () => names.shift()!), calls: s.calls };
}

const project = (id: string, status: string, envId = `env-${id}`) => ({ id, name: `Project ${id}`, environments: [{ id: envId, name: 'production', status }] });

describe('V2Backend', () => {
  test('tiles: running projects only, with the Connected state of environments[0]', async () => {
    const { b, calls } = backend({
      [`GET ${o}/projects`]: [json(200, { projects: [project('p1', 'running'), project('p2', 'draft'), project('p3', 'running')] })],
      [`GET ${o}/environment/env-p1/users/erin%40x/activations`]: [json(200, [{ id: 'a1', dynamicVariables: {} }])],
      [`GET ${o}/environment/env-p3/users/erin%40x/activations`]: [json(200, [])],
    });
    const res = await b.listIntegrations();
    expect(res.integrations.map((i) => [i.id, i.name, i.isActivated, i.environmentId, i.imageUrl, i.description])).toEqual([
      ['p1', 'Project p1', true, 'env-p1', '', ''],
      ['p3', 'Project p3', false, 'env-p3', '', ''],
    ]);
    expect(res.totalConnected).toBe(1);
    expect(calls.every((c) => c.auth === 'JWT h.p.s')).toBe(true);
    expect(calls).toHaveLength(3);
  });

  test('the wizard: the project’s schema and its dynamic templates only', async () => {
    const { b, calls } = backend({
      [`GET ${o}/projects/p1`]: [json(200, { ...project('p1', 'running'), dynamicVariablesSchema: { type: 'object', properties: { region: { type: 'string' } } } })],
      [`GET ${o}/projects/p1/connection-templates?env_id=env-p1`]: [
        json(200, {
          items: [
            { id: 'sys-crm', connectionTemplateId: 'tpl-crm', name: 'crm', dynamic: true, authSchemeConfigs: [apiKeyScheme], templateBaseUrl: 'https://crm' },
            { id: 'sys-erp', connectionTemplateId: 'tpl-erp', name: 'erp', dynamic: false, authSchemeConfigs: [apiKeyScheme], templateBaseUrl: 'https://erp' },
          ],
        }),
      ],
    });
    const i = await b.getIntegration(projectToSummary(project('p1', 'running'), false));
    expect(i.variablesSchema).toEqual({ type: 'object', properties: { region: { type: 'string' } } });
    expect(i.environmentId).toBe('env-p1');
    expect(i.connectionTemplates).toEqual([
      { id: 'tpl-crm', connectorId: 'sys-crm', name: 'crm', imageUrl: '', isPrimary: false, isUsed: false, authSchemeConfig: { id: 'apikey', schemeType: 'api-key', name: 'X-Api-Key', in: 'header' }, variables: [] },
    ]);
    expect(calls.map((c) => c.url)).toEqual([`${o}/projects/p1`, `${o}/projects/p1/connection-templates?env_id=env-p1`]);
  });

  const integration: EmbeddedIntegration = {
    ...projectToSummary(project('p1', 'running'), false),
    connectionTemplates: [templateFromV2({ id: 'sys-crm', connectionTemplateId: 'tpl-crm', name: 'crm', dynamic: true, authSchemeConfigs: [apiKeyScheme] })],
  };
  const choice: ConnectionChoice = {
    name: 'crm',
    credentials: { action: [{ authSchemeConfig: integration.connectionTemplates[0].authSchemeConfig, credential: { name: 'crm', type: 'string', data: { value: 'k1' } } }] },
    variables: [],
  };

  test('activate: the end user is created (never looked up: no 404 before it exists), then ActivateUser with v2 connections', async () => {
    const { b, calls } = backend({
      [`POST ${o}/users`]: [json(201, { id: 'u1', externalId: 'erin@x' })],
      [`POST ${o}/activations`]: [json(200, { id: 'act1' }), json(200, { id: 'act2' })],
    });
    expect(await b.activate(integration, [choice], { region: 'eu' })).toEqual({ id: 'act1' });
    expect(calls[0].body).toEqual({ externalId: 'erin@x', displayName: 'erin@x_primary' });
    expect(calls[1].body).toEqual({
      userId: 'erin@x',
      environmentId: 'env-p1',
      connections: [
        {
          connectionTemplateId: 'tpl-crm',
          connection: { name: '01NAMEA', credentials: [{ authSchemeConfig: apiKeyScheme, credential: { name: 'crm', type: 'string', data: { string: { value: 'k1' } } } }] },
        },
      ],
      dynamicVariables: { region: 'eu' },
    });
    // The user is known now: the next activation goes straight to ActivateUser, with a new name.
    await b.activate(integration, [choice], {});
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([`POST ${o}/users`, `POST ${o}/activations`, `POST ${o}/activations`]);
    expect((calls[2].body as { connections: { connection: { name: string } }[] }).connections[0].connection.name).toBe('01NAMEB');
  });

  test('activate: a user with an activation is not created again; a 409 on create is fine; other errors stop', async () => {
    const found = backend({
      [`GET ${o}/projects`]: [json(200, { projects: [project('p1', 'running')] })],
      [`GET ${o}/environment/env-p1/users/erin%40x/activations`]: [json(200, [{ id: 'a1', dynamicVariables: {} }])],
      [`POST ${o}/activations`]: [json(200, { id: 'a' })],
    });
    await found.b.listIntegrations();
    await found.b.activate(integration, [choice], {});
    expect(found.calls.map((c) => c.method)).toEqual(['GET', 'GET', 'POST']);

    const raced = backend({
      [`POST ${o}/users`]: [json(409, { code: '409000', message: 'exists' })],
      [`POST ${o}/activations`]: [json(200, { id: 'a' })],
    });
    await raced.b.activate(integration, [choice], {});

    const refused = backend({ [`POST ${o}/users`]: [json(401, { code: '401000', message: 'token expired' })] });
    const err = await refused.b.activate(integration, [choice], {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(refused.calls).toHaveLength(1);
  });

  test('an ActivateUser 400 comes back as an ApiError with its fields', async () => {
    const body = { code: '400000', message: 'invalid', fields: [{ field: 'dynamicVariables.region', message: 'is required' }] };
    const { b } = backend({ [`POST ${o}/users`]: [json(201, {})], [`POST ${o}/activations`]: [json(400, body)] });
    const err = await b.activate(integration, [choice], {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.body).toEqual(body);
  });

  const summary = { ...projectToSummary(project('p1', 'running'), true) };
  const v2Activation = {
    id: 'act1',
    dynamicVariables: { region: 'eu', batch: 5 },
    connections: [
      { id: 'conn-crm', name: '01NAMEA', connectionTemplateId: 'tpl-crm' },
      { id: 'conn-erp', name: 'erp-static', connectionTemplateId: 'tpl-erp' },
    ],
  };

  test('manage: the activation, variables PATCHed with the changes only, deactivate', async () => {
    const { b, calls } = backend({
      [`GET ${o}/environment/env-p1/users/erin%40x/activations`]: [json(200, [v2Activation])],
      [`PATCH ${o}/environments/env-p1/activations/act1/variables`]: [json(200, { region: 'eu', batch: 50 })],
      [`DELETE ${o}/environments/env-p1/activations/act1`]: [json(204)],
    });
    const a = await b.getActivation(summary);
    expect(a).toEqual(activationFromV2(v2Activation));
    expect(a.connections).toEqual({ 'tpl-crm': { id: 'conn-crm', name: '01NAMEA' }, 'tpl-erp': { id: 'conn-erp', name: 'erp-static' } });
    expect(await b.updateVariables(summary, a, { region: 'eu', batch: 50 })).toEqual({ region: 'eu', batch: 50 });
    expect(calls[1].body).toEqual({ batch: 50 });
    // Nothing changed: no call.
    expect(await b.updateVariables(summary, a, { region: 'eu', batch: 5 })).toEqual({ region: 'eu', batch: 5 });
    await b.deactivate(summary, a);
    expect(calls.map((c) => c.method)).toEqual(['GET', 'PATCH', 'DELETE']);
  });

  test('manage: no activation is an error', async () => {
    const { b } = backend({ [`GET ${o}/environment/env-p1/users/erin%40x/activations`]: [json(200, [])] });
    await expect(b.getActivation(summary)).rejects.toThrow(/not activated/);
  });

  test('replace a connection: PUT /connections/{id}, its name kept, credentials in v2 form, baseUrl ""', async () => {
    const { b, calls } = backend({ [`PUT ${o}/connections/conn-crm`]: [json(200, { id: 'conn-crm', name: '01NAMEA' })] });
    const a = activationFromV2(v2Activation);
    const t = integration.connectionTemplates[0];
    expect(b.canReplaceConnection(a, t)).toBe(true);
    expect(b.canReplaceConnection({ id: 'x', dynamicVariables: {} }, t)).toBe(false);
    const after = await b.replaceConnection(summary, a, t, choice);
    expect(after.connections?.['tpl-crm']).toEqual({ id: 'conn-crm', name: '01NAMEA' });
    expect(calls[0].body).toEqual({
      name: '01NAMEA',
      credentials: [{ authSchemeConfig: apiKeyScheme, credential: { name: 'crm', type: 'string', data: { string: { value: 'k1' } } } }],
      baseUrl: '',
    });
  });

  test('OAuth2 initialise goes to the template’s system', async () => {
    const { b, calls } = backend({ [`POST ${o}/systems/sys-crm/oauth2/initialise`]: [json(200, { url: 'https://idp/authorize?state=s' })] });
    expect(await b.oauthInitialise(integration.connectionTemplates[0], { clientId: 'c' })).toBe('https://idp/authorize?state=s');
    expect(calls[0].body).toEqual({ clientId: 'c' });
  });

  test('no connections to reuse in v2 mode; connections are named by the page', async () => {
    const { b } = backend({});
    expect(await b.listConnections()).toEqual([]);
    expect(b.namesConnections).toBe(false);
  });
});

describe('V1Backend', () => {
  const v1: HubContext = { token: 'sys_t', hub: 'hub1', user: 'alice', origin: null, theme: {} };
  test('speaks Embedded API v1 with the bearer token, as before', async () => {
    const s = server({
      'GET /api/embedded/v1/embed/hub1/users/alice/integrations?first=100': [
        json(200, { integrations: [{ id: 'i1', isDeployed: true }, { id: 'i2', isDeployed: false }], next: '', totalConnected: 0 }),
      ],
      'POST /api/embedded/v1/activations': [json(200, { id: 'act' })],
    });
    const b = new V1Backend(v1, new Api('sys_t', '', s.fn));
    expect((await b.listIntegrations()).integrations.map((i) => i.id)).toEqual(['i1']);
    const integ = { id: 'i1', connectionTemplates: [{ id: 'tpl' }] } as unknown as EmbeddedIntegration;
    await b.activate(integ, [{ connectionId: 'c1' }], { a: 1 });
    expect(s.calls[1].body).toEqual({ userId: 'alice', integrationId: 'i1', connections: [{ templateId: 'tpl', connectionId: 'c1' }], dynamicVariables: { a: 1 } });
    expect(s.calls.every((c) => c.auth === 'Bearer sys_t')).toBe(true);
  });
});
