#!/usr/bin/env node
// Fills a Switchyard organisation with demo data for the hub UI, and prints session URLs.
//
//   node examples/seed-demo.mjs <organisationId> <apiKey> [serverUrl]
//
// Creates connectors (API key, basic auth, certificate, OAuth2, none), a hub, six integrations
// (five deployed), and an end user `alice` who has a primary connection. `bob` does not exist yet:
// the hub works for him too. Prints a hub session URL for each (open it in a browser), and the
// command for the sample host page (host-server.mjs + host.html), which embeds the hub with
// embed.js. Uses only Node's own fetch (Node 18+).
const [org, key, server = process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8950'] = process.argv.slice(2);
if (!org || !key) {
  console.error('usage: node examples/seed-demo.mjs <organisationId> <apiKey> [serverUrl]');
  process.exit(2);
}

async function call(method, path, body) {
  const res = await fetch(server + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A small SVG logo as a data URL. */
function logo(letter, colour) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="14" fill="${colour}"/><text x="32" y="42" font-family="Arial,sans-serif" font-size="30" font-weight="700" fill="#fff" text-anchor="middle">${letter}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

const connector = (body) => call('POST', `/api/connect/v1/o/${org}/protocols/http/connectors`, body);

const apiKeyScheme = { id: 'apikey', schemeType: 'api-key', name: 'X-Api-Key', in: 'header' };
const acme = await connector({ name: 'Acme', baseUrl: 'https://api.acme.example', authSchemeConfigs: [{ id: 'acme-key', schemeType: 'api-key', name: 'X-Acme-Key', in: 'header' }] });
const crm = await connector({
  name: 'CRM',
  baseUrl: 'https://{{subdomain}}.crm.example',
  connectionVariables: [{ name: 'subdomain', value: '' }],
  authSchemeConfigs: [apiKeyScheme],
});
const ledger = await connector({ name: 'Ledger', baseUrl: 'https://api.ledger.example', authSchemeConfigs: [{ id: 'basic', schemeType: 'basic-auth' }] });
const vault = await connector({ name: 'Vault', baseUrl: 'https://vault.example', authSchemeConfigs: [{ id: 'cert', schemeType: 'certificate' }] });
const status = await connector({ name: 'Status page', baseUrl: 'https://status.example', authSchemeConfigs: [{ id: 'none', schemeType: 'none' }] });
const chatScheme = {
  id: 'oauth',
  schemeType: 'oauth2',
  authorizeUrl: 'https://chat.example/oauth/authorize',
  tokenUrl: 'https://chat.example/oauth/token',
  scopes: [{ name: 'messages:write' }, { name: 'channels:read' }],
  defaultScopes: ['messages:write', 'channels:read'],
  grant: { grantType: 'authorization_code', clientId: 'demo-client', clientSecret: 'demo-secret' },
};
const chat = await connector({ name: 'Team chat', baseUrl: 'https://api.chat.example', authSchemeConfigs: [chatScheme] });

const hub = await call('POST', '/api/embedded/v1/hubs', {
  organisationId: org,
  name: 'Demo hub',
  primaryConnectorId: acme.id,
  authSchemeConfig: acme.authSchemeConfigs[0],
});

async function integration(body, extraTemplates = [], deploy = true) {
  const i = await call('POST', `/api/embedded/v1/hubs/${hub.id}/integrations`, { organisationId: org, ...body });
  for (const t of extraTemplates) await call('POST', `/api/embedded/v1/integrations/${i.id}/connection-templates`, t);
  if (deploy) await call('POST', `/api/embedded/v1/integrations/${i.id}/deploy`);
  return i;
}

const crmSync = await integration({
  name: 'CRM sync',
  description: 'Keep contacts and deals in step between Acme and your CRM.',
  imageUrl: logo('C', '#2563eb'),
  variablesSchema: {
    type: 'object',
    required: ['region'],
    properties: {
      region: { type: 'string', title: 'Region', enum: ['eu', 'us', 'apac'] },
      batchSize: { type: 'integer', title: 'Batch size', minimum: 1, maximum: 500, default: 50 },
      notify: {
        type: 'object',
        title: 'Notifications',
        required: ['email'],
        properties: {
          enabled: { type: 'boolean', title: 'Send a summary after each sync', default: true },
          email: { type: 'string', title: 'Email', format: 'email' },
        },
      },
      pipelines: { type: 'array', title: 'Pipelines', items: { type: 'string' } },
    },
  },
  connectionTemplate: { connectorId: crm.id, authSchemeConfig: apiKeyScheme },
});
const ledgerExport = await integration(
  {
    name: 'Ledger export',
    description: 'Send paid invoices from Acme to your ledger every night.',
    imageUrl: logo('L', '#059669'),
    variablesSchema: { type: 'object', properties: { account: { type: 'string', title: 'Ledger account', default: '4000' } } },
    connectionTemplate: { connectorId: acme.id, authSchemeConfig: acme.authSchemeConfigs[0] },
  },
  [{ connectorId: ledger.id, authSchemeConfig: ledger.authSchemeConfigs[0] }],
);
const statusAlerts = await integration({
  name: 'Status alerts',
  description: 'Post incidents from your status page to Acme.',
  imageUrl: logo('S', '#f59e0b'),
  connectionTemplate: { connectorId: status.id, authSchemeConfig: status.authSchemeConfigs[0] },
});
const secureVault = await integration({
  name: 'Secure vault',
  description: 'Store signed documents in your vault with mutual TLS.',
  imageUrl: logo('V', '#7c3aed'),
  connectionTemplate: { connectorId: vault.id, authSchemeConfig: vault.authSchemeConfigs[0] },
});
const teamChat = await integration({
  name: 'Team chat',
  description: 'Tell your team in chat when deals close.',
  imageUrl: logo('T', '#db2777'),
  variablesSchema: { type: 'object', properties: { channel: { type: 'string', title: 'Channel', default: '#sales' } } },
  connectionTemplate: { connectorId: chat.id, authSchemeConfig: chat.authSchemeConfigs[0] },
});
await integration(
  {
    name: 'Not deployed',
    description: 'Hidden from end users until deployed.',
    connectionTemplate: { connectorId: status.id, authSchemeConfig: status.authSchemeConfigs[0] },
  },
  [],
  false,
);

await call('POST', `/api/embedded/v1/hubs/${hub.id}/users`, {
  externalId: 'alice',
  displayName: 'Alice',
  primaryConnection: {
    name: 'Alice at Acme',
    credentials: { action: [{ authSchemeConfig: acme.authSchemeConfigs[0], credential: { name: 'acme key', type: 'string', data: { value: 'alice-key' } } }] },
    variables: [],
  },
});

// Hub sessions, as a host backend creates them: one per end user, valid for a day here.
async function session(user) {
  const s = await call('POST', `/api/embedded/v1/hubs/${encodeURIComponent(hub.id)}/users/${encodeURIComponent(user)}/sessions?identifier_type=external`, {
    ttlSeconds: 86400,
  });
  return s.url;
}
console.log(
  JSON.stringify(
    {
      hubId: hub.id,
      connectors: { acme: acme.id, crm: crm.id, ledger: ledger.id, vault: vault.id, status: status.id, chat: chat.id },
      integrations: { crmSync: crmSync.id, ledgerExport: ledgerExport.id, statusAlerts: statusAlerts.id, secureVault: secureVault.id, teamChat: teamChat.id },
      sessions: { alice: await session('alice'), bob: await session('bob') },
      hostPage: `node examples/host-server.mjs --switchyard ${server} --api-key <apiKey> --hub ${hub.id}   # then open http://127.0.0.1:8960/?user=alice`,
    },
    null,
    2,
  ),
);
