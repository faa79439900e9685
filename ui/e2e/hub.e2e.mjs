#!/usr/bin/env node
// End-to-end test of the embedded hub in real Chromium, against the real switchyard binary.
//
//   cd ui && npm ci && npm run e2e          (or: node ui/e2e/hub.e2e.mjs from anywhere)
//
// Environment:
//   SWITCHYARD_BIN   the binary (default: ../target/debug/switchyard relative to ui/)
//   CHROMIUM_PATH    the browser (default: /usr/bin/chromium; never downloaded)
//   TEST_OUTPUT_DIR  where screenshots and logs go (default: <repo>/test-output/ui-e2e)
//   E2E_HEADFUL=1    show the browser; E2E_SLOWMO=<ms> slows it down
//
// Everything listens on 127.0.0.1: the switchyard server, an OAuth2 server (oauth2-mock-server),
// and the host application (examples/host-server.mjs), on its own port so that the host page and
// the hub have different origins. Each step checks the API state with the organisation key, not
// only the page. Exit code 0 when every step passed.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OAuth2Server } from 'oauth2-mock-server';
import { chromium } from 'playwright-core';
import { startHostServer } from '../../examples/host-server.mjs';
import { axeViolations, client as apiClient, createOrg as createOrgIn, e2eRun, ok, versoriSchemas } from './harness.mjs';

const uiDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(uiDir, '..');
const BIN = resolve(uiDir, process.env.SWITCHYARD_BIN ?? '../target/debug/switchyard');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = resolve(process.env.TEST_OUTPUT_DIR ?? join(repoRoot, 'test-output', 'ui-e2e'));
const TIMEOUT = 15_000;
const OVERALL_TIMEOUT = 5 * 60_000;

const { step, info, assert, assertEqual, eventually, screenshot, cleanups, switchyard, setPage, run } = e2eRun({
  tag: 'e2e',
  bin: BIN,
  out: OUT,
  timeout: TIMEOUT,
  overallTimeout: OVERALL_TIMEOUT,
});
const createOrg = (dataDir) => createOrgIn(BIN, dataDir, 'Hub e2e');
/** A client of the HTTP API with a bearer token. */
const client = (base, token) => apiClient(base, `Bearer ${token}`);

/** A small SVG logo as a data URL. */
function logo(letter, colour) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="14" fill="${colour}"/><text x="32" y="42" font-family="Arial,sans-serif" font-size="30" font-weight="700" fill="#fff" text-anchor="middle">${letter}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  assert(existsSync(BIN), `the switchyard binary is missing at ${BIN}: build it (cargo build -p switchyard) or set SWITCHYARD_BIN`);
  assert(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);

  step('start switchyard, an OAuth2 server and the host application');
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-hub-e2e-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const org = await createOrg(dataDir);
  const sy = await switchyard(dataDir);
  info(`switchyard at ${sy.url}, organisation ${org.organisationId}`);
  const admin = client(sy.url, org.apiKey);

  const oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  await oauth.start(0, '127.0.0.1');
  cleanups.push(() => oauth.stop());
  // 127.0.0.1, not the "localhost" of oauth2-mock-server's issuer URL: nothing here listens on ::1.
  const oauthUrl = `http://127.0.0.1:${oauth.address().port}`;
  const issuedCodes = [];
  const tokenRequests = [];
  const authorizeRequests = [];
  oauth.service.on('beforeAuthorizeRedirect', (redirect, req) => {
    authorizeRequests.push({ ...req.query });
    issuedCodes.push(redirect.url.searchParams.get('code'));
  });
  // `refuseRefresh`: the provider refuses refresh grants (a revoked sign-in). Issued tokens expire
  // at once, so the next use of one refreshes it.
  let refuseRefresh = false;
  oauth.service.on('beforeResponse', (response, req) => {
    tokenRequests.push({ ...req.body, authorization: req.headers.authorization ?? null });
    if (req.body.grant_type === 'refresh_token' && refuseRefresh) {
      response.statusCode = 400;
      response.body = { error: 'invalid_grant', error_description: 'the grant was revoked' };
    } else if (response.body && typeof response.body === 'object') {
      response.body.expires_in = 1;
    }
  });
  info(`OAuth2 server at ${oauthUrl}`);

  step('seed connectors, a hub and integrations through the API');
  const connector = (body) => ok(admin, 'POST', `/api/connect/v1/o/${org.organisationId}/protocols/http/connectors`, body);
  const acme = await connector({
    name: 'Acme',
    baseUrl: 'https://api.acme.example',
    authSchemeConfigs: [{ id: 'acme-key', schemeType: 'api-key', name: 'X-Acme-Key', in: 'header', description: 'Find it in Acme under Settings › Developer.' }],
  });
  const crmScheme = { id: 'crm-key', schemeType: 'api-key', name: 'X-CRM-Key', in: 'header' };
  const crm = await connector({ name: 'CRM', baseUrl: 'https://api.crm.example', authSchemeConfigs: [crmScheme] });
  const chatScheme = {
    id: 'chat-oauth',
    schemeType: 'oauth2',
    authorizeUrl: `${oauthUrl}/authorize`,
    tokenUrl: `${oauthUrl}/token`,
    scopes: [{ name: 'messages:write' }, { name: 'channels:read' }],
    defaultScopes: ['messages:write', 'channels:read'],
    grant: { grantType: 'authorization_code', clientId: 'hub-e2e-client', clientSecret: 'hub-e2e-secret' },
  };
  const chat = await connector({ name: 'Team chat', baseUrl: 'https://api.chat.example', authSchemeConfigs: [chatScheme] });
  const hub = await ok(admin, 'POST', '/api/embedded/v1/hubs', {
    organisationId: org.organisationId,
    name: 'E2E hub',
    primaryConnectorId: acme.id,
    authSchemeConfig: acme.authSchemeConfigs[0],
  });
  const integration = async (body, deploy = true) => {
    const i = await ok(admin, 'POST', `/api/embedded/v1/hubs/${hub.id}/integrations`, { organisationId: org.organisationId, ...body });
    if (deploy) await ok(admin, 'POST', `/api/embedded/v1/integrations/${i.id}/deploy`);
    return i;
  };
  const crmSync = await integration({
    name: 'CRM sync',
    description: 'Keep contacts and deals in step between Acme and your CRM.',
    imageUrl: logo('C', '#2563eb'),
    variablesSchema: {
      type: 'object',
      required: ['region'],
      properties: {
        // Titled choices (oneOf of const and title) and enumNames show as words.
        region: {
          type: 'string',
          title: 'Data region',
          oneOf: [
            { const: 'eu', title: 'Europe' },
            { const: 'us', title: 'United States' },
            { const: 'apac', title: 'Asia Pacific' },
          ],
        },
        tier: { type: 'string', title: 'Plan', enum: ['std', 'prem'], enumNames: ['Standard', 'Premium'] },
        costCentre: { type: 'string', title: 'Cost centre', pattern: '^CC-[0-9]{4}$', examples: ['CC-1234'] },
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
    connectionTemplate: { connectorId: crm.id, authSchemeConfig: crmScheme },
  });
  const teamChat = await integration({
    name: 'Team chat',
    description: 'Tell your team in chat when deals close.',
    imageUrl: logo('T', '#db2777'),
    variablesSchema: { type: 'object', properties: { channel: { type: 'string', title: 'Channel', default: '#sales' } } },
    connectionTemplate: { connectorId: chat.id, authSchemeConfig: chatScheme },
  });
  const ledger = await integration({
    name: 'Ledger export',
    description: 'Send paid invoices to your ledger every night.',
    imageUrl: logo('L', '#059669'),
    connectionTemplate: { connectorId: acme.id, authSchemeConfig: acme.authSchemeConfigs[0] },
  });
  await integration(
    { name: 'Hidden draft', description: 'Not deployed.', connectionTemplate: { connectorId: acme.id, authSchemeConfig: acme.authSchemeConfigs[0] } },
    false,
  );
  info(`hub ${hub.id}; integrations ${crmSync.id} (CRM sync), ${teamChat.id} (Team chat), ${ledger.id} (Ledger export)`);

  const user = `e2e-user-${Date.now().toString(36)}`;
  const apiUser = encodeURIComponent(user);
  const activationsOf = async (integrationId) =>
    (await ok(admin, 'GET', `/api/embedded/v1/embed/${hub.id}/users/${apiUser}/activations?integration_id=${integrationId}`)).activations ?? [];
  const connectionsOf = async (connectorId) => {
    const res = await admin('GET', `/api/embedded/v1/hubs/${hub.id}/users/${apiUser}/connections?identifier_type=external&hub_connector_id=${connectorId}`);
    if (res.status === 404) return [];
    assert(res.status === 200, `listing connections answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.connections ?? [];
  };

  step('a session for a user who does not exist yet; what its token may and may not do');
  const hostApp = await startHostServer({ switchyardUrl: sy.url, apiKey: org.apiKey, hubId: hub.id, host: '127.0.0.1', port: 0 });
  cleanups.push(() => hostApp.close());
  info(`host application at ${hostApp.url}`);
  const probe = await hostApp.createSession(user);
  assert(typeof probe.token === 'string' && probe.token.length >= 20, `the session has a token: ${JSON.stringify(probe)}`);
  assert(!Number.isNaN(Date.parse(probe.expiresAt)), `expiresAt is a date: ${probe.expiresAt}`);
  const sessionUrl = new URL(probe.url);
  assertEqual(sessionUrl.origin + sessionUrl.pathname, `${sy.url}/hub/`, 'the session URL is the hub page');
  const frag = new URLSearchParams(sessionUrl.hash.slice(1));
  assertEqual([frag.get('token'), frag.get('hub'), frag.get('user')], [probe.token, hub.id, user], 'the fragment carries token, hub and user');
  const asSession = client(sy.url, probe.token);
  const listed = await ok(asSession, 'GET', `/api/embedded/v1/embed/${hub.id}/users/${apiUser}/integrations`);
  assertEqual(
    listed.integrations.filter((i) => i.isDeployed).map((i) => i.name).sort(),
    ['CRM sync', 'Ledger export', 'Team chat'],
    'the session lists the deployed integrations',
  );
  const adminCall = await asSession('GET', `/api/embedded/v1/hubs/${hub.id}/users`);
  assertEqual([adminCall.status, adminCall.body?.code], [403, '403000'], 'a session token is refused for an administration call');
  const otherUser = await asSession('GET', `/api/embedded/v1/embed/${hub.id}/users/someone-else/integrations`);
  assert(otherUser.status === 403 || otherUser.status === 404, `a session token is refused for another user (got ${otherUser.status})`);
  assertEqual((await admin('GET', `/api/embedded/v1/hubs/${hub.id}/users/${apiUser}`)).status, 404, 'the end user does not exist yet');
  const limited = await hostApp.createSession(user, [crmSync.id]);
  const limitedList = await ok(client(sy.url, limited.token), 'GET', `/api/embedded/v1/embed/${hub.id}/users/${apiUser}/integrations`);
  assertEqual(limitedList.integrations.map((i) => i.id), [crmSync.id], 'allowedIntegrations limits what the session sees');
  const hidden = await client(sy.url, limited.token)('GET', `/api/embedded/v1/embed/${hub.id}/users/${apiUser}/integrations/${teamChat.id}`);
  assertEqual(hidden.status, 404, 'an integration outside allowedIntegrations is not found');

  step('open the host page: the hub is mounted from embed.js in an iframe of another origin');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.E2E_HEADFUL,
    slowMo: Number(process.env.E2E_SLOWMO ?? 0),
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  setPage(page);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  await page.goto(`${hostApp.url}/?user=${apiUser}`);
  const iframe = page.locator('iframe[title="Acme integrations"]');
  await iframe.waitFor();
  const src = new URL(await iframe.getAttribute('src'));
  assertEqual(src.origin, sy.url, 'the iframe shows the switchyard origin');
  assert(new URL(hostApp.url).origin !== src.origin, 'host page and hub have different origins');
  assertEqual(new URLSearchParams(src.hash.slice(1)).get('origin'), new URL(hostApp.url).origin, 'embed.js passes the host origin to the hub');
  const hubFrame = page.frameLocator('iframe[title="Acme integrations"]');
  /** The hub's own frame (for evaluating inside it). */
  const hubPage = () => page.frames().find((f) => f.url().startsWith(`${sy.url}/hub/`));
  /** Waits until the iframe has grown to show the open dialog (or the grid) whole, then takes a screenshot. */
  const shot = async (name) => {
    await eventually(async () => {
      const frameHeight = (await iframe.boundingBox())?.height ?? 0;
      const needed = await hubPage().evaluate(() => {
        const dialogs = document.querySelectorAll('[role="dialog"], [role="alertdialog"]');
        const el = dialogs.length ? dialogs[dialogs.length - 1] : document.querySelector('[data-testid="hub"]');
        return Math.ceil(el.getBoundingClientRect().bottom);
      });
      return frameHeight + 1 >= needed;
    }, `the iframe to show everything before screenshot ${name}`);
    await screenshot(page, name);
  };
  /** Waits for the grid's "n of 3 connected" (the grid reloads after each change). */
  const expectCount = (n, what) =>
    eventually(async () => (await hubFrame.getByTestId('connected-count').innerText()) === `${n} of 3 connected`, `"${n} of 3 connected": ${what}`);
  const hostEvents = () => page.evaluate(() => window.hostEvents.map((e) => e.type));
  const lastEvent = (type) => page.evaluate((t) => [...window.hostEvents].reverse().find((e) => e.type === t) ?? null, type);

  step('the host\'s theme reaches the hub (--sy-* custom properties)');
  await eventually(() => hubPage(), 'the hub frame');
  await hubFrame.getByTestId('hub').waitFor();
  assertEqual(
    await hubPage().evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--sy-color-primary').trim()),
    '#4338ca',
    'the primary colour set by host.html',
  );

  step('see the tiles and the connected count; search');
  const tile = (id) => hubFrame.getByTestId(`tile-${id}`);
  await tile(crmSync.id).waitFor();
  assertEqual(await hubFrame.locator('[data-testid^="tile-"]').count(), 3, 'three deployed integrations are shown');
  await expectCount(0, 'nothing is connected yet');
  assert((await tile(crmSync.id).innerText()).includes('Keep contacts and deals in step'), 'a tile shows the description');
  // The iframe takes the height the hub reports.
  await eventually(async () => (await iframe.boundingBox()).height > 150, 'the iframe to be resized to its content');
  await shot('01-grid');
  assertEqual((await axeViolations(hubPage())), [], 'axe: no serious or critical violation (grid)');
  await hubFrame.getByTestId('search').fill('chat');
  await eventually(async () => (await hubFrame.locator('[data-testid^="tile-"]').count()) === 1, 'the search to leave one tile');
  assert(await tile(teamChat.id).isVisible(), 'the search keeps Team chat');
  await hubFrame.getByTestId('search').fill('no such thing');
  await hubFrame.getByTestId('empty-state').waitFor();
  await hubFrame.getByTestId('search').fill('');
  await tile(ledger.id).waitFor();

  step('phone width: the grid fits without sideways scrolling');
  await page.setViewportSize({ width: 375, height: 800 });
  await eventually(
    () => hubPage()?.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
    'the hub to fit 375 px',
  );
  await shot('02-grid-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  step('open CRM sync: the wizard; Escape closes it and the host hears "closed"');
  await tile(crmSync.id).click();
  const wizard = hubFrame.getByTestId('wizard');
  await wizard.waitFor();
  await page.keyboard.press('Escape');
  await wizard.waitFor({ state: 'detached' });
  await eventually(async () => (await hostEvents()).includes('closed'), 'the "closed" event at the host');
  assertEqual((await admin('GET', `/api/embedded/v1/hubs/${hub.id}/users/${apiUser}`)).status, 404, 'looking creates nothing');
  await tile(crmSync.id).click();
  await wizard.getByTestId('step-connection-0').waitFor();

  step('keyboard: Tab stays inside the dialog');
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    const inside = await hubPage().evaluate(() => !!document.activeElement?.closest('[data-testid="wizard"]'));
    assert(inside, `focus left the dialog after ${i + 1} Tab presses`);
  }

  step('a new user: the primary connection (Acme, the hub\'s own app) comes first, in words');
  const step0 = wizard.getByTestId('step-connection-0');
  assert((await step0.innerText()).includes('Connect Acme'), `the first step is the primary connection: ${await step0.innerText()}`);
  assert((await step0.innerText()).includes('your main Acme account'), 'it says why');
  await wizard.getByLabel('Acme API key').waitFor();
  const labels = await wizard.locator('label').allInnerTexts();
  assert(!labels.some((l) => /X-Acme-Key|X-CRM-Key|api_token/.test(l)), `no label is a header or parameter name: ${JSON.stringify(labels)}`);
  assertEqual(
    (await wizard.getByTestId('credential-api-key').evaluate((el) => document.getElementById(el.getAttribute('aria-describedby'))?.textContent ?? '')).trim(),
    'Find it in Acme under Settings › Developer.',
    'the organisation\'s description of the scheme is the key\'s help',
  );
  assertEqual(await wizard.getByTestId('credential-api-key').evaluate((el) => el.labels[0].textContent), 'Acme API key*', 'one required marker, right after the label');
  assertEqual((await axeViolations(hubPage())), [], 'axe: no serious or critical violation (wizard)');

  step('API-key connection: a missing key is shown next to the field, then filled');
  await wizard.getByTestId('next').click();
  const keyError = wizard.getByTestId('field-error-apiKey');
  await keyError.waitFor();
  assert((await keyError.innerText()).includes('Acme API key'), `the error names the key in words: ${await keyError.innerText()}`);
  assertEqual(await wizard.getByTestId('credential-api-key').getAttribute('aria-invalid'), 'true', 'the field is marked invalid');
  await shot('03-wizard-connection-error');
  await page.setViewportSize({ width: 375, height: 800 });
  await eventually(
    () => hubPage().evaluate(() => {
      const d = document.querySelector('[data-testid="wizard"]');
      return !!d && d.getBoundingClientRect().right <= document.documentElement.clientWidth && document.documentElement.scrollWidth <= document.documentElement.clientWidth;
    }),
    'the wizard to fit 375 px',
  );
  await shot('03b-wizard-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  await wizard.getByLabel('Connection name').fill('My Acme');
  await wizard.getByTestId('credential-api-key').fill('acme-secret-1');
  assertEqual(await keyError.count(), 0, 'the error goes once the field is filled');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-connection-1').waitFor();
  assertEqual(await wizard.getByTestId('connection-name').evaluate((el) => el.labels[0].textContent), 'Connection name*', 'the same marker');
  await wizard.getByLabel('Connection name').fill('My CRM');
  await wizard.getByLabel('CRM API key').fill('crm-secret-1');
  await wizard.getByTestId('next').click();

  step('variables form: schema violations shown inline, then corrected');
  await wizard.getByTestId('step-variables').waitFor();
  const form = wizard.getByTestId('variables-form');
  await form.locator('#root_region').waitFor();
  assertEqual(await form.locator('#root_batchSize').inputValue(), '50', 'the default batch size is filled in');
  const regionOptions = await form.locator('#root_region option').allInnerTexts();
  assertEqual(regionOptions, ['Choose…', 'Europe', 'United States', 'Asia Pacific'], 'a titled enum shows words, after a prompt');
  assertEqual(await form.locator('#root_region option:checked').innerText(), 'Choose…', 'nothing is chosen yet');
  assertEqual(await form.locator('#root_tier option').allInnerTexts(), ['Choose…', 'Standard', 'Premium'], 'enumNames show as words');
  assertEqual(await form.locator('label[for="root_region"]').innerText(), 'Data region*', 'the settings use the same required marker');
  await form.locator('#root_batchSize').fill('1000');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('field-error-region').waitFor();
  await wizard.getByTestId('field-error-batchSize').waitFor();
  await wizard.getByTestId('field-error-notify.email').waitFor();
  assertEqual(await wizard.getByTestId('field-error-batchSize').innerText(), 'Must be 500 or less.', 'the maximum is explained');
  assertEqual(await wizard.getByTestId('field-error-region').innerText(), 'This field is required.', 'the required region is explained');
  for (const id of ['root_region', 'root_batchSize', 'root_notify_email']) {
    const el = form.locator(`#${id}`);
    assertEqual(await el.getAttribute('aria-invalid'), 'true', `${id} is marked invalid`);
    assert((await el.getAttribute('aria-describedby')).split(' ').includes(`${id}__error`), `${id} names its error`);
  }
  assertEqual(await form.locator('#root_costCentre').getAttribute('aria-invalid'), null, 'a valid field is not marked invalid');
  assertEqual((await axeViolations(hubPage())), [], 'axe: no serious or critical violation (settings with errors)');
  await shot('04-wizard-variables-errors');
  assertEqual(await wizard.getByTestId('step-variables').count(), 1, 'the wizard stays on the variables step');
  const focused = await hubPage().evaluate(() => document.activeElement?.id ?? '');
  assert(['root_region', 'root_batchSize', 'root_notify_email'].includes(focused), `focus moves to an invalid field (it is on "${focused}")`);
  assertEqual((await activationsOf(crmSync.id)).length, 0, 'nothing is activated while the form is invalid');
  assertEqual((await admin('GET', `/api/embedded/v1/hubs/${hub.id}/users/${apiUser}`)).status, 404, 'and no end user is created');
  await form.locator('#root_region').selectOption({ label: 'Europe' });
  await form.locator('#root_costCentre').fill('cost centre 7');
  await form.locator('#root_batchSize').fill('100');
  await form.locator('#root_notify_email').fill('not an email');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('field-error-notify.email').waitFor();
  assert((await wizard.getByTestId('field-error-notify.email').innerText()).includes('email address'), 'the email format is explained');
  assertEqual(await wizard.getByTestId('field-error-costCentre').innerText(), 'Use the expected form, like CC-1234.', 'a pattern error shows the expected form');
  assertEqual(await form.locator('#root_costCentre').getAttribute('aria-invalid'), 'true', 'and marks its field');
  await form.locator('#root_costCentre').fill('CC-0042');
  await form.locator('#root_notify_email').fill('ops@example.com');
  await form.getByRole('button', { name: /add/i }).click();
  await form.locator('#root_pipelines_0').fill('sales');
  await eventually(async () => (await wizard.locator('[data-testid^="field-error-"]').count()) === 0, 'the errors to clear');
  await wizard.getByTestId('next').click();

  step('review, then Activate');
  await wizard.getByTestId('step-review').waitFor();
  const review = await wizard.getByTestId('step-review').innerText();
  for (const text of ['My Acme', 'My CRM', 'Europe', '100', 'Notifications › Email', 'ops@example.com', 'sales', 'CC-0042']) {
    assert(review.includes(text), `the review shows "${text}":\n${review}`);
  }
  await shot('05-wizard-review');
  await wizard.getByTestId('activate').click();
  await wizard.waitFor({ state: 'detached' });
  const activated = await eventually(() => lastEvent('activated'), 'the "activated" event at the host');
  assertEqual(activated.payload.integrationId, crmSync.id, 'the event names the integration');
  await hubFrame.getByTestId('success-message').waitFor();
  await eventually(async () => (await tile(crmSync.id).getAttribute('data-activated')) === 'true', 'the Connected badge');
  await expectCount(1, 'the count goes up');

  step('API: the user exists, the activation has the variables, the connection has the key');
  const endUser = await ok(admin, 'GET', `/api/embedded/v1/hubs/${hub.id}/users/${apiUser}`);
  assertEqual(endUser.externalId, user, 'the first activation created the end user');
  const versori = await versoriSchemas(repoRoot, 'versori-embedded-api-v1.yaml');
  assertEqual(versori('EndUser', endUser), [], 'the page-created end user is valid against Versori\'s EndUser schema');
  assertEqual(endUser.primaryConnection?.name, 'My Acme', 'its primary connection is the one the first step asked for');
  assertEqual((await connectionsOf(acme.id)).map((c) => c.id), [endUser.primaryConnection.id], 'a connection to Acme, the hub\'s primary connector');
  const crmActs = await activationsOf(crmSync.id);
  assertEqual(crmActs.length, 1, 'one activation of CRM sync');
  assertEqual(crmActs[0].id, activated.payload.activationId, 'the event carries the activation id');
  const act1 = await ok(admin, 'GET', `/api/embedded/v1/activations/${crmActs[0].id}`);
  assertEqual(act1.user.externalId, user, 'the activation belongs to the session user');
  assertEqual(versori('Activation', act1), [], 'GetActivation is valid against Versori\'s Activation schema');
  assertEqual(act1.dynamicVariables, { region: 'eu', batchSize: 100, costCentre: 'CC-0042', notify: { enabled: true, email: 'ops@example.com' }, pipelines: ['sales'] }, 'the variables were saved');
  const crmConns = await connectionsOf(crm.id);
  assertEqual(crmConns.map((c) => c.name), ['My CRM'], 'the new CRM connection exists');

  step('reconfigure: a network failure keeps the input, then the change is saved');
  await tile(crmSync.id).click();
  const manage = hubFrame.getByTestId('manage');
  await manage.getByTestId('manage-overview').waitFor();
  await shot('06-manage');
  await page.setViewportSize({ width: 375, height: 800 });
  await shot('06b-manage-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  assertEqual((await axeViolations(hubPage())), [], 'axe: no serious or critical violation (manage view)');
  await manage.getByTestId('reconfigure').click();
  const mform = manage.getByTestId('variables-form');
  await mform.locator('#root_batchSize').waitFor();
  assertEqual(await mform.locator('#root_batchSize').inputValue(), '100', 'the form starts from the saved values');
  await mform.locator('#root_batchSize').fill('250');
  const failVariables = (route) => route.abort('connectionrefused');
  await context.route('**/api/embedded/v1/activations/*/variables', failVariables);
  await manage.getByTestId('save-variables').click();
  const netErr = manage.locator('[data-testid="error-message"][data-error-kind="network"]');
  await netErr.waitFor();
  assert((await netErr.innerText()).includes('Could not reach the server'), 'the network failure is explained');
  assertEqual(await mform.locator('#root_batchSize').inputValue(), '250', 'what the user typed is kept');
  await shot('07-network-error');
  await context.unroute('**/api/embedded/v1/activations/*/variables', failVariables);
  await manage.getByTestId('save-variables').click();
  await manage.getByTestId('success-message').waitFor();
  const act2 = await ok(admin, 'GET', `/api/embedded/v1/activations/${crmActs[0].id}`);
  assertEqual(act2.dynamicVariables.batchSize, 250, 'the new batch size is saved');
  assertEqual(act2.dynamicVariables.region, 'eu', 'the other variables are kept');

  step('replace the CRM connection with a new key');
  await manage.getByTestId(`replace-connection-${(await ok(admin, 'GET', `/api/embedded/v1/embed/${hub.id}/users/${apiUser}/integrations/${crmSync.id}`)).connectionTemplates[0].id}`).click();
  await manage.getByTestId('step-replace-connection').waitFor();
  await manage.getByTestId('connection-mode-new').check();
  await manage.getByTestId('connection-name').fill('My CRM (rotated)');
  await manage.getByTestId('credential-api-key').fill('crm-secret-2');
  await manage.getByTestId('save-connection').click();
  await manage.getByTestId('success-message').waitFor();
  const crmConns2 = await connectionsOf(crm.id);
  assert(crmConns2.some((c) => c.name === 'My CRM (rotated)'), `the new connection exists: ${JSON.stringify(crmConns2)}`);
  await manage.getByTestId('close').click();
  await manage.waitFor({ state: 'detached' });

  step('OAuth2: connect Team chat through the popup and the hosted callback');
  await tile(teamChat.id).click();
  await wizard.getByTestId('step-connection-0').waitFor();
  const popupPromise = context.waitForEvent('page');
  await wizard.getByTestId('oauth-connect').click();
  const popup = await popupPromise;
  info(`popup opened: ${popup.url()}`);
  await eventually(async () => (await wizard.getByTestId('oauth-status').getAttribute('data-state')) === 'connected', 'the popup flow to finish', 20_000);
  await eventually(() => popup.isClosed(), 'the popup to close');
  assertEqual(authorizeRequests.length, 1, 'the provider was asked once');
  const authz = authorizeRequests[0];
  assertEqual([authz.client_id, authz.response_type, authz.redirect_uri], ['hub-e2e-client', 'code', `${sy.url}/oauth2/callback`], 'the authorize request');
  assert(authz.state && authz.state.length >= 16, 'the authorize request carries a state');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-variables').waitFor();
  assertEqual(await wizard.locator('#root_channel').inputValue(), '#sales', 'the default channel');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-review').waitFor();
  await wizard.getByTestId('activate').click();
  await wizard.waitFor({ state: 'detached' });
  const chatEvent = await eventually(async () => {
    const e = await lastEvent('activated');
    return e?.payload?.integrationId === teamChat.id ? e : null;
  }, 'the "activated" event for Team chat');
  await expectCount(2, 'two integrations are connected');

  step('API: the code was exchanged at the token URL; the activation and connection exist');
  assertEqual(tokenRequests.length, 1, 'one token request');
  assertEqual(tokenRequests[0].grant_type, 'authorization_code', 'the grant');
  assertEqual(tokenRequests[0].code, issuedCodes[0], 'the code the provider issued');
  assertEqual(tokenRequests[0].redirect_uri, `${sy.url}/oauth2/callback`, 'the same redirect URI');
  const clientAuth = tokenRequests[0].authorization
    ? Buffer.from(tokenRequests[0].authorization.replace(/^Basic /, ''), 'base64').toString()
    : `${tokenRequests[0].client_id}:${tokenRequests[0].client_secret}`;
  assertEqual(clientAuth, 'hub-e2e-client:hub-e2e-secret', 'the client authenticated with the grant secret');
  const chatActs = await activationsOf(teamChat.id);
  assertEqual(chatActs.map((a) => a.id), [chatEvent.payload.activationId], 'one activation of Team chat');
  const chatAct = await ok(admin, 'GET', `/api/embedded/v1/activations/${chatActs[0].id}`);
  assertEqual(chatAct.dynamicVariables, { channel: '#sales' }, 'the default variables were saved');
  assertEqual((await connectionsOf(chat.id)).length, 1, 'one Team chat connection');

  step('deactivate CRM sync: Cancel keeps it, Confirm removes it');
  await tile(crmSync.id).click();
  await manage.getByTestId('manage-overview').waitFor();
  await manage.getByTestId('deactivate').click();
  const confirm = hubFrame.getByTestId('confirm-dialog');
  await confirm.waitFor();
  await shot('08-confirm-deactivate');
  const confirmText = await confirm.innerText();
  assert(/settings will be removed/.test(confirmText) && /saved connections/.test(confirmText) && /kept/.test(confirmText), `deactivating says what goes and what stays: ${confirmText}`);
  await confirm.getByTestId('cancel').click();
  await confirm.waitFor({ state: 'detached' });
  assertEqual((await activationsOf(crmSync.id)).length, 1, 'Cancel deactivates nothing');
  await manage.getByTestId('deactivate').click();
  await confirm.getByTestId('confirm').click();
  await manage.waitFor({ state: 'detached' });
  const deactivated = await eventually(() => lastEvent('deactivated'), 'the "deactivated" event at the host');
  assertEqual(deactivated.payload.activationId, crmActs[0].id, 'the event names the activation');
  assertEqual((await admin('GET', `/api/embedded/v1/activations/${crmActs[0].id}`)).status, 404, 'the activation is gone');
  assertEqual((await activationsOf(crmSync.id)).length, 0, 'no activation of CRM sync is left');
  await eventually(async () => (await tile(crmSync.id).getAttribute('data-activated')) === 'false', 'the tile to lose its badge');
  await expectCount(1, 'the count goes down');
  await shot('09-grid-after-deactivation');

  step('activate again reusing an existing connection; an API error is shown next to its field');
  await tile(crmSync.id).click();
  await wizard.getByTestId('step-connection-0').waitFor();
  assert(await wizard.getByTestId('connection-mode-existing').isChecked(), 'an existing connection is offered first');
  const existingConns = await connectionsOf(crm.id);
  const doomed = existingConns.find((c) => c.name === 'My CRM (rotated)');
  const kept = existingConns.find((c) => c.name === 'My CRM');
  assert(doomed && kept, `both CRM connections are listed: ${JSON.stringify(existingConns)}`);
  await wizard.getByTestId('existing-connection').selectOption(doomed.id);
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-variables').waitFor();
  await wizard.locator('#root_region').selectOption({ label: 'United States' });
  await wizard.locator('#root_notify_email').fill('team@example.com');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-review').waitFor();
  assert((await wizard.getByTestId('review-connection-0').innerText()).includes('My CRM (rotated)'), 'the review names the chosen connection');
  // The connection disappears meanwhile (say, deleted in another tab): the server refuses it.
  await ok(admin, 'DELETE', `/api/connect/v1/o/${org.organisationId}/connectors/${crm.id}/connections/${doomed.id}`);
  await wizard.getByTestId('activate').click();
  const apiErr = wizard.locator('[data-testid="error-message"][data-error-kind="api"]');
  await apiErr.waitFor();
  info(`the server said: ${(await apiErr.innerText()).replace(/\s+/g, ' ')}`);
  await wizard.getByTestId('step-connection-0').waitFor();
  const existingErr = wizard.getByTestId('field-error-existing');
  await existingErr.waitFor();
  const existingErrText = (await existingErr.innerText()).trim();
  info(`next to the field: ${existingErrText}`);
  assert(existingErrText.includes('My CRM (rotated)') && !existingErrText.includes(doomed.id), 'the error names the connection, not its id');
  await shot('10-api-field-error');
  assertEqual((await activationsOf(crmSync.id)).length, 0, 'nothing was activated');
  await wizard.getByTestId('existing-connection').selectOption(kept.id);
  assertEqual(await existingErr.count(), 0, 'the error goes once the user chooses again');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-variables').waitFor();
  assertEqual(await wizard.locator('#root_notify_email').inputValue(), 'team@example.com', 'the settings typed before are kept');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('activate').click();
  await wizard.waitFor({ state: 'detached' });
  const reacts = await activationsOf(crmSync.id);
  assertEqual(reacts.length, 1, 'CRM sync is active again');
  const react = await ok(admin, 'GET', `/api/embedded/v1/activations/${reacts[0].id}`);
  assertEqual([react.dynamicVariables.region, react.dynamicVariables.notify?.email], ['us', 'team@example.com'], 'with the new settings');
  assertEqual((await connectionsOf(crm.id)).map((c) => c.id), [kept.id], 'no new connection was made');

  step('saved connections: what uses each; an unused one is removed, a used one is refused with the reason');
  const spare = await ok(admin, 'POST', `/api/embedded/v1/hubs/${hub.id}/users/${apiUser}/connections`, {
    connectorId: crm.id,
    connection: { name: 'Old CRM', credentials: { action: [{ authSchemeConfig: crmScheme, credential: { name: 'key', type: 'string', data: { value: 'crm-old' } } }] }, variables: [] },
  });
  await hubFrame.getByTestId('open-saved-connections').click();
  const savedDialog = hubFrame.getByTestId('saved-dialog');
  const savedRow = (name) => savedDialog.locator('[data-testid^="saved-connection-"]', { hasText: name });
  await savedRow('Old CRM').waitFor();
  assert((await savedRow('My Acme').innerText()).includes('your main account'), 'the primary connection is named as such');
  assertEqual(await savedRow('My Acme').getByTestId('remove-connection').count(), 0, 'and cannot be removed');
  assert((await savedRow('My CRM').getByTestId('used-by').innerText()).includes('Used by CRM sync'), 'a used connection names its integration');
  assert((await savedRow('Old CRM').getByTestId('used-by').innerText()).includes('Not used'), 'an unused one says so');
  await shot('11-saved-connections');
  assertEqual(await axeViolations(hubPage()), [], 'axe: no serious or critical violation (saved connections)');
  await savedRow('My CRM').getByTestId('remove-connection').click();
  await savedRow('My CRM').getByRole('button', { name: /Confirm: remove/ }).click();
  const refusal = savedRow('My CRM').getByTestId('remove-error');
  await refusal.waitFor();
  assert((await refusal.innerText()).includes('used by CRM sync'), `the refusal says why: ${await refusal.innerText()}`);
  assert((await connectionsOf(crm.id)).some((c) => c.name === 'My CRM'), 'the used connection stays');
  await page.setViewportSize({ width: 375, height: 800 });
  await shot('11b-saved-connections-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  await savedRow('Old CRM').getByTestId('remove-connection').click();
  await savedRow('Old CRM').getByRole('button', { name: /Confirm: remove/ }).click();
  await savedRow('Old CRM').waitFor({ state: 'detached' });
  assert(!(await connectionsOf(crm.id)).some((c) => c.id === spare.id), 'the unused connection is gone');
  await savedDialog.getByRole('button', { name: /close/i }).first().click();
  await savedDialog.waitFor({ state: 'detached' });

  step('a sign-in that can no longer refresh: its tile needs attention, and one click starts a reconnect');
  const chatConnection = (await connectionsOf(chat.id))[0];
  refuseRefresh = true;
  const refused = await admin('POST', `/api/connect/v1/o/${org.organisationId}/connectors/${chat.id}/connections/${chatConnection.id}/token`);
  assert(refused.status >= 400, `the refresh is refused: ${refused.status} ${JSON.stringify(refused.body)}`);
  refuseRefresh = false;
  // The hub reloads (the host page and what it heard stay).
  await hubPage().evaluate(() => location.reload());
  await tile(teamChat.id).waitFor();
  await tile(teamChat.id).getByTestId('needs-attention').waitFor();
  assert((await tile(teamChat.id).innerText()).includes('Reconnect'), 'the tile offers to reconnect');
  assertEqual(await tile(crmSync.id).getByTestId('needs-attention').count(), 0, 'the other tiles do not need attention');
  await shot('12-needs-attention');
  await tile(teamChat.id).click();
  await manage.getByTestId('step-replace-connection').waitFor();
  assert((await manage.getByTestId('needs-attention-reason').innerText()).includes('no longer works'), 'the reconnect says why');
  const popup2Promise = context.waitForEvent('page');
  await manage.getByTestId('oauth-connect').click();
  await popup2Promise;
  await eventually(async () => (await manage.getByTestId('oauth-status').getAttribute('data-state')) === 'connected', 'the second popup flow to finish', 20_000);
  await manage.getByTestId('connection-name').fill('Team chat (reconnected)');
  await manage.getByTestId('save-connection').click();
  await manage.getByTestId('success-message').waitFor();
  await manage.getByTestId('close').click();
  await manage.waitFor({ state: 'detached' });
  await eventually(async () => (await tile(teamChat.id).getByTestId('needs-attention').count()) === 0, 'the tile to be well again');
  const chatNow = await activationsOf(teamChat.id);
  assertEqual(chatNow.length, 1, 'Team chat is still activated');

  step('a bad or missing session is explained on the page');
  const lone = await context.newPage();
  await lone.goto(`${sy.url}/hub/#token=not-a-session&hub=${hub.id}&user=${apiUser}`);
  const loadErr = lone.getByTestId('load-error');
  await loadErr.waitFor();
  assert((await loadErr.innerText()).includes('Your session has ended'), `an unknown token: ${await loadErr.innerText()}`);
  assert((await loadErr.innerText()).includes('Open the integrations page from your application again'), 'it says what to do');
  assertEqual([await lone.getByRole('button', { name: /try again/i }).count(), await lone.getByTestId('search').count()], [0, 0], 'and offers nothing that cannot work');
  assertEqual((await axeViolations(lone.mainFrame())), [], 'axe: no serious or critical violation (ended session)');
  await lone.goto('about:blank');
  await lone.goto(`${sy.url}/hub/`);
  await loadErr.waitFor();
  assert((await loadErr.innerText()).includes('Missing from the address: token, hub, user'), `no fragment: ${await loadErr.innerText()}`);
  await lone.close();

  step('with no dialog open, the iframe is as tall as the grid again');
  await eventually(async () => {
    const frameHeight = (await iframe.boundingBox()).height;
    const gridHeight = await hubPage().evaluate(() => Math.ceil(document.querySelector('[data-testid="hub"]').getBoundingClientRect().height));
    return Math.abs(frameHeight - gridHeight) <= 1;
  }, 'the iframe to shrink back to the grid');

  step('the host\'s words: a messages override given to Switchyard.mount appears on the page');
  const worded = await context.newPage();
  const words = { 'grid.title': 'Your connected apps', 'tile.manage': 'Open', 'grid.count': '{connected} apps on, {total} in all' };
  await worded.goto(`${hostApp.url}/?user=${apiUser}&messages=${encodeURIComponent(JSON.stringify(words))}`);
  const wordedHub = worded.frameLocator('iframe[title="Acme integrations"]');
  await wordedHub.getByTestId(`tile-${crmSync.id}`).waitFor();
  assertEqual(await wordedHub.locator('h1').innerText(), 'Your connected apps', 'the overridden title');
  assertEqual(await wordedHub.getByTestId('connected-count').innerText(), '2 apps on, 3 in all', 'placeholders filled in the host\'s words');
  assert((await wordedHub.getByTestId(`tile-${crmSync.id}`).innerText()).includes('Open →'), 'the tile\'s action in the host\'s words');
  assert((await wordedHub.getByTestId(`tile-${ledger.id}`).innerText()).includes('Connect →'), 'words not overridden stay');
  await worded.close();

  step('the address names the organisation: a URL without it reloads with it, another is refused, its framing policy applies');
  const O = org.organisationId;
  assertEqual(sessionUrl.searchParams.get('o'), O, 'the session URL names the organisation (?o=)');
  const fresh = new URL((await hostApp.createSession(user)).url);
  const probePage = await context.newPage();
  const bare = new URL(fresh);
  bare.search = '';
  await probePage.goto(bare.toString());
  await probePage.getByTestId(`tile-${crmSync.id}`).waitFor();
  assertEqual(new URL(probePage.url()).searchParams.get('o'), O, 'the page reloaded itself with o');
  const wrong = new URL(fresh);
  wrong.searchParams.set('o', '01J0000000000000000000000Z');
  await probePage.goto('about:blank');
  await probePage.goto(wrong.toString());
  await probePage.getByTestId('wrong-organisation').waitFor();
  assertEqual(await probePage.locator('[data-testid^="tile-"]').count(), 0, 'another organisation in the address: nothing of the hub is shown');
  await probePage.close();
  const settingsPath = `/api/organisations/v1/organisations/${O}/settings`;
  await ok(admin, 'PUT', settingsPath, { hubFrameAncestors: ['https://elsewhere.example'] });
  const framed = await context.newPage();
  await framed.goto(`${hostApp.url}/?user=${apiUser}`);
  await framed.locator('iframe[title="Acme integrations"]').waitFor();
  await eventually(() => framed.frames().some((f) => f.url().startsWith('chrome-error://')), 'Chromium to refuse to frame the hub for a host outside hubFrameAncestors');
  assert(!framed.frames().some((f) => f.url().startsWith(`${sy.url}/hub/`)), 'no hub page in the frame');
  await ok(admin, 'PUT', settingsPath, { hubFrameAncestors: ['https://elsewhere.example', new URL(hostApp.url).origin] });
  await framed.reload();
  await framed.frameLocator('iframe[title="Acme integrations"]').getByTestId(`tile-${crmSync.id}`).waitFor();
  await framed.close();
  await ok(admin, 'PUT', settingsPath, {});

  step('no errors in the pages');
  // Expected: the aborted request, the refused activation (400) and the refused removal (409).
  // Nothing the page asked before the user existed answered an error (no 404).
  const unexpected = pageErrors.filter((e) => !/ERR_CONNECTION_REFUSED|status of (400|409)/.test(e));
  assertEqual(unexpected, [], 'no page errors');
  const errorEvents = (await page.evaluate(() => window.hostEvents.filter((e) => e.type === 'error')));
  assertEqual(errorEvents.map((e) => e.payload.operation), ['update-variables', 'activate'], 'the host heard of the two failures, and only of them');
}

await run(main);
