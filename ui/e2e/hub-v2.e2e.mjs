#!/usr/bin/env node
// End-to-end test of the hub page in Platform API v2 mode (`/hub/#jwt=<end-user JWT>&org=<org>`),
// in real Chromium against the real switchyard binary.
//
//   cd ui && npm ci && node e2e/hub-v2.e2e.mjs      (or: node ui/e2e/hub-v2.e2e.mjs from anywhere)
//
// Environment: as e2e/hub.e2e.mjs (SWITCHYARD_BIN, CHROMIUM_PATH, TEST_OUTPUT_DIR, E2E_HEADFUL,
// E2E_SLOWMO). Screenshots go to <TEST_OUTPUT_DIR>/v2.
//
// The organisation is set up as an admin would (versori-api.md §8.2 step 1) with the organisation
// API key: a signing key, two v2 systems, a project with a dynamic and a static connection template
// (and the static one's connection), a variables schema, deploy. The end user's JWT is minted here
// with the signing key's private key, as the host's backend would. Each step checks the API state
// with the organisation key, not only the page. Exit code 0 when every step passed.
import { createSign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OAuth2Server } from 'oauth2-mock-server';
import { chromium } from 'playwright-core';
import { startHostServer } from '../../examples/host-server.mjs';
import { axeViolations, client, createOrg as createOrgIn, e2eRun, ok } from './harness.mjs';

const uiDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(uiDir, '..');
const BIN = resolve(uiDir, process.env.SWITCHYARD_BIN ?? '../target/debug/switchyard');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = join(resolve(process.env.TEST_OUTPUT_DIR ?? join(repoRoot, 'test-output', 'ui-e2e')), 'v2');
const TIMEOUT = 15_000;
const OVERALL_TIMEOUT = 4 * 60_000;

const { step, info, assert, assertEqual, eventually, screenshot, cleanups, switchyard, setPage, run } = e2eRun({
  tag: 'e2e-v2',
  bin: BIN,
  out: OUT,
  timeout: TIMEOUT,
  overallTimeout: OVERALL_TIMEOUT,
});
const createOrg = (dataDir) => createOrgIn(BIN, dataDir, 'Hub v2 e2e');

/** An end user's JWT, as the host's backend mints it: RS256 with the signing key's private key. */
function mintJwt({ keyId, privateKey, sub, iat = Math.floor(Date.now() / 1000), ttl = 600 }) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: `https://versori.com/sk/${keyId}`, sub, iat, exp: iat + ttl })}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  return `${input}.${signer.sign(privateKey).toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  assert(existsSync(BIN), `the switchyard binary is missing at ${BIN}: build it (cargo build -p switchyard) or set SWITCHYARD_BIN`);
  assert(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);

  step('start switchyard');
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-hub-v2-e2e-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const org = await createOrg(dataDir);
  const sy = await switchyard(dataDir);
  const oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  await oauth.start(0, '127.0.0.1');
  cleanups.push(() => oauth.stop());
  const oauthUrl = `http://127.0.0.1:${oauth.address().port}`;
  const issuedCodes = [];
  const tokenRequests = [];
  const authorizeRequests = [];
  oauth.service.on('beforeAuthorizeRedirect', (redirect, req) => {
    authorizeRequests.push({ ...req.query });
    issuedCodes.push(redirect.url.searchParams.get('code'));
  });
  oauth.service.on('beforeResponse', (_response, req) => {
    tokenRequests.push({ ...req.body, authorization: req.headers.authorization ?? null });
  });
  const O = org.organisationId;
  const v2 = `/api/v2/o/${O}`;
  const admin = client(sy.url, `Bearer ${org.apiKey}`);
  info(`switchyard at ${sy.url}, organisation ${O}`);

  step('the admin side through the API: a signing key, systems, a project, templates, variables, deploy');
  const key = await ok(admin, 'POST', `/api/organisations/v1/organisations/${O}/keys`, { name: 'hub-v2-e2e' });
  assert(typeof key.id === 'string' && /BEGIN PRIVATE KEY/.test(key.privateKey ?? ''), `the signing key has an id and a PKCS #8 private key: ${JSON.stringify(Object.keys(key))}`);
  const crmScheme = { type: 'api-key', apiKey: { id: 'crm-key', description: 'CRM API key', name: 'X-CRM-Key', in: 'header' } };
  const erpScheme = { type: 'api-key', apiKey: { id: 'erp-key', name: 'X-ERP-Key', in: 'header' } };
  const crmSystem = await ok(admin, 'POST', `${v2}/systems`, { name: 'CRM', domain: 'crm.example', templateBaseUrl: 'https://api.crm.example', authSchemeConfigs: [crmScheme] });
  const erpSystem = await ok(admin, 'POST', `${v2}/systems`, { name: 'ERP', domain: 'erp.example', templateBaseUrl: 'https://api.erp.example', authSchemeConfigs: [erpScheme] });
  const project = await ok(admin, 'POST', `${v2}/projects`, { name: 'Orders sync' });
  const env = project.environments[0].id;
  const tpath = `${v2}/projects/${project.id}/connection-templates`;
  const crmTpl = await ok(admin, 'POST', tpath, { systemId: crmSystem.id, name: 'crm', environmentId: env, dynamic: true });
  const erpTpl = await ok(admin, 'POST', tpath, { systemId: erpSystem.id, name: 'erp', environmentId: env, dynamic: false });
  const erpConn = await ok(admin, 'POST', `${v2}/connections`, {
    connectionTemplateId: erpTpl.connectionTemplateId,
    connection: { name: 'erp-production', credentials: [{ authSchemeConfig: erpScheme, credential: { name: 'ERP key', type: 'string', data: { string: { value: 'erp-secret' } } } }] },
  });
  const schema = {
    type: 'object',
    required: ['region'],
    properties: {
      region: { type: 'string', title: 'Region', enum: ['eu', 'us', 'apac'] },
      batchSize: { type: 'integer', title: 'Batch size', minimum: 1, default: 50 },
    },
  };
  await ok(admin, 'PUT', `${v2}/projects/${project.id}/variables`, schema);
  const deploy = (id) => ok(admin, 'PUT', `${v2}/projects/${id}/deploy?project_env=production`, { files: [], labels: {}, versionName: 'v1' });
  const deployed = await deploy(project.id);
  assertEqual(deployed.environments[0].status, 'running', 'the project is deployed');
  // A second deployed project whose one system signs in with OAuth2 (no settings), and an
  // undeployed one, which is not shown.
  const chatScheme = {
    type: 'oauth2',
    oauth2: {
      id: 'chat-oauth',
      authorizeUrl: `${oauthUrl}/authorize`,
      tokenUrl: `${oauthUrl}/token`,
      scopes: [{ name: 'messages:write' }],
      defaultScopes: ['messages:write'],
      grant: { type: 'authorizationCode', authorizationCode: { clientId: 'hub-v2-client', clientSecret: 'hub-v2-secret' } },
    },
  };
  const chatSystem = await ok(admin, 'POST', `${v2}/systems`, { name: 'Team chat', domain: 'chat.example', templateBaseUrl: 'https://api.chat.example', authSchemeConfigs: [chatScheme] });
  const chat = await ok(admin, 'POST', `${v2}/projects`, { name: 'Team chat alerts' });
  const chatEnv = chat.environments[0].id;
  const chatTpl = await ok(admin, 'POST', `${v2}/projects/${chat.id}/connection-templates`, { systemId: chatSystem.id, name: 'chat', environmentId: chatEnv, dynamic: true });
  await deploy(chat.id);
  const draft = await ok(admin, 'POST', `${v2}/projects`, { name: 'Draft project' });
  info(`key ${key.id}; projects ${project.id} (Orders sync, env ${env}), ${chat.id} (Team chat alerts), ${draft.id} (draft)`);

  step('the end user’s JWT, minted with the private key; what it may and may not do');
  const user = 'erin';
  const jwt = mintJwt({ keyId: key.id, privateKey: key.privateKey, sub: user });
  const asErin = client(sy.url, `JWT ${jwt}`);
  assertEqual((await asErin('GET', `${v2}/users/${user}`)).status, 404, 'erin does not exist yet (her token may ask)');
  assertEqual((await asErin('GET', `${v2}/users/someone-else`)).status, 403, 'another end user is refused');
  assertEqual((await asErin('GET', `${v2}/projects`)).status, 200, 'the token lists projects');
  const activationsOf = async () => ok(admin, 'GET', `${v2}/environments/${env}/activations`);

  step('open /hub/#jwt=…&org=…: the deployed projects are the tiles');
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
  const requests = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/')) requests.push({ method: r.method(), url: r.url(), auth: r.headers().authorization ?? '', body: r.postData() });
  });
  await page.goto(`${sy.url}/hub/#jwt=${jwt}&org=${O}`);
  const tile = (id) => page.getByTestId(`tile-${id}`);
  await tile(project.id).waitFor();
  assertEqual(new URL(page.url()).searchParams.get('o'), O, 'the page reloaded itself with ?o=<org> (the organisation framing policy)');
  assertEqual(await page.locator('[data-testid^="tile-"]').count(), 2, 'two deployed projects are shown, the draft is not');
  assert((await tile(project.id).innerText()).includes('Orders sync'), 'the tile is named after the project');
  assertEqual((await tile(project.id).locator('.sy-icon__letter').innerText()).trim(), 'O', 'a neutral placeholder instead of an image');
  const expectCount = (n, what) => eventually(async () => (await page.getByTestId('connected-count').innerText()) === `${n} of 2 connected`, `"${n} of 2 connected": ${what}`);
  await expectCount(0, 'nothing is connected yet');
  await screenshot(page, 'v2-01-grid');
  const apiRequests = requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
  assert(apiRequests.length > 0 && apiRequests.every((r) => r.auth === `JWT ${jwt}`), 'every call sends Authorization: JWT <token>');
  assert(apiRequests.every((r) => new URL(r.url).pathname.startsWith(`/api/v2/o/${O}/`)), `every call goes to Platform API v2: ${apiRequests.map((r) => r.url).join(', ')}`);
  assert(requests.some((r) => r.url.endsWith(`/environment/${env}/users/${user}/activations`)), 'the Connected state comes from ListUserActivations');

  step('the wizard: one step for the dynamic template (the static one is the environment’s), settings, review');
  await tile(project.id).click();
  const wizard = page.getByTestId('wizard');
  await wizard.getByTestId('step-connection-0').waitFor();
  assertEqual(await wizard.locator('.sy-steps__item').count(), 3, 'crm, settings, review: no step for the static erp template');
  assertEqual(await wizard.getByTestId('connection-name').count(), 0, 'no connection name to type (v2 names connections itself)');
  assertEqual((await admin('GET', `${v2}/users/${user}`)).status, 404, 'looking creates no end user');
  await wizard.getByTestId('next').click();
  const keyError = wizard.getByTestId('field-error-apiKey');
  await keyError.waitFor();
  assert(/API key/.test(await keyError.innerText()) && !(await keyError.innerText()).includes('X-CRM-Key'), `the error names the key in words: ${await keyError.innerText()}`);
  assertEqual(await wizard.getByTestId('credential-api-key').getAttribute('aria-invalid'), 'true', 'the key is marked invalid');
  assertEqual((await axeViolations(page.mainFrame())), [], 'axe: no serious or critical violation (wizard)');
  await wizard.getByTestId('credential-api-key').fill('crm-secret-1');
  await wizard.getByTestId('next').click();

  step('settings: schema violations shown inline, then corrected');
  await wizard.getByTestId('step-variables').waitFor();
  const form = wizard.getByTestId('variables-form');
  await form.locator('#root_region').waitFor();
  assertEqual(await form.locator('#root_batchSize').inputValue(), '50', 'the default batch size');
  await form.locator('#root_batchSize').fill('0');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('field-error-region').waitFor();
  assertEqual(await wizard.getByTestId('field-error-region').innerText(), 'This field is required.', 'the required region');
  for (const id of ['root_region', 'root_batchSize']) assertEqual(await form.locator(`#${id}`).getAttribute('aria-invalid'), 'true', `${id} is marked invalid`);
  assertEqual(await wizard.getByTestId('field-error-batchSize').innerText(), 'Must be 1 or more.', 'the minimum');
  await screenshot(page, 'v2-02-wizard-variables-errors');
  await form.locator('#root_region').selectOption({ label: 'eu' });
  await form.locator('#root_batchSize').fill('5');
  await eventually(async () => (await wizard.locator('[data-testid^="field-error-"]').count()) === 0, 'the errors to clear');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-review').waitFor();
  const review = await wizard.getByTestId('step-review').innerText();
  for (const text of ['crm', 'New connection (API key)', 'eu', '5']) assert(review.includes(text), `the review shows "${text}":\n${review}`);

  step('the server refuses a value (the schema changed meanwhile): its error is shown next to the field');
  await ok(admin, 'PUT', `${v2}/projects/${project.id}/variables`, { ...schema, properties: { ...schema.properties, batchSize: { ...schema.properties.batchSize, minimum: 10 } } });
  await wizard.getByTestId('activate').click();
  const apiErr = wizard.locator('[data-testid="error-message"][data-error-kind="api"]');
  await apiErr.waitFor();
  info(`the server said: ${(await apiErr.innerText()).replace(/\s+/g, ' ')}`);
  await wizard.getByTestId('step-variables').waitFor();
  const serverFieldErr = wizard.getByTestId('field-error-batchSize');
  await serverFieldErr.waitFor();
  info(`next to the field: ${(await serverFieldErr.innerText()).trim()}`);
  assert((await serverFieldErr.innerText()).includes('10'), 'the server’s minimum is explained at the field');
  await screenshot(page, 'v2-03-server-field-error');
  assertEqual((await activationsOf()).length, 0, 'nothing was activated');
  const erin = await ok(admin, 'GET', `${v2}/users/${user}`);
  assertEqual([erin.externalId, erin.displayName], [user, `${user}_primary`], 'the end user was created before the first activation, as the SDK does');
  await form.locator('#root_batchSize').fill('20');
  assertEqual(await serverFieldErr.count(), 0, 'the error goes once the user changes the field');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-review').waitFor();
  await wizard.getByTestId('activate').click();
  await wizard.waitFor({ state: 'detached' });
  await page.getByTestId('success-message').waitFor();
  await eventually(async () => (await tile(project.id).getAttribute('data-activated')) === 'true', 'the Connected badge');
  await expectCount(1, 'the count goes up');

  step('API: the activation exists with the variables and a new connection holding the key');
  const acts = await activationsOf();
  assertEqual(acts.length, 1, 'one activation');
  const act = acts[0];
  assertEqual(act.user.externalId, user, 'it is erin’s');
  assertEqual(act.dynamicVariables, { region: 'eu', batchSize: 20 }, 'with the variables');
  const crmConnOut = act.connections.find((c) => c.connectionTemplateId === crmTpl.connectionTemplateId);
  const erpConnOut = act.connections.find((c) => c.connectionTemplateId === erpTpl.connectionTemplateId);
  assert(crmConnOut && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(crmConnOut.name), `the new crm connection is named with a ULID: ${JSON.stringify(crmConnOut)}`);
  assertEqual(crmConnOut.credentials[0].authSchemeConfig, crmScheme, 'with the system’s v2 scheme');
  assertEqual(crmConnOut.credentials[0].credential.type, 'string', 'and a string credential');
  assertEqual(erpConnOut?.id, erpConn.id, 'the static template is served by the environment’s connection');
  const activateReq = requests.filter((r) => r.method === 'POST' && r.url.endsWith(`/api/v2/o/${O}/activations`)).pop();
  const sent = JSON.parse(activateReq.body);
  assertEqual(
    sent.connections.map((c) => [c.connectionTemplateId, c.connection.credentials[0].credential.data]),
    [[crmTpl.connectionTemplateId, { string: { value: 'crm-secret-1' } }]],
    'the page sent the key in v2 credential form',
  );
  assertEqual([sent.userId, sent.environmentId], [user, env], 'for erin, in the project’s environment');

  step('reconfigure: only the changed variables are PATCHed');
  await tile(project.id).click();
  const manage = page.getByTestId('manage');
  await manage.getByTestId('manage-overview').waitFor();
  assert((await manage.getByTestId('variables-summary').innerText()).includes('20'), 'the saved settings are shown');
  await screenshot(page, 'v2-04-manage');
  await manage.getByTestId('reconfigure').click();
  const mform = manage.getByTestId('variables-form');
  await mform.locator('#root_batchSize').waitFor();
  assertEqual(await mform.locator('#root_batchSize').inputValue(), '20', 'the form starts from the saved values');
  await mform.locator('#root_batchSize').fill('30');
  await manage.getByTestId('save-variables').click();
  await manage.getByTestId('success-message').waitFor();
  const patch = requests.filter((r) => r.method === 'PATCH').pop();
  assert(patch.url.endsWith(`/environments/${env}/activations/${act.id}/variables`), `SetDynamicVariables: ${patch.url}`);
  assertEqual(JSON.parse(patch.body), { batchSize: 30 }, 'the PATCH carries the change only');
  assertEqual((await ok(admin, 'GET', `${v2}/environments/${env}/activations/${act.id}`)).dynamicVariables, { region: 'eu', batchSize: 30 }, 'the API has the merged variables');
  assert((await manage.getByTestId('variables-summary').innerText()).includes('30'), 'the page shows the new value');

  step('replace the crm connection’s key (PUT /connections/{id})');
  const before = await ok(admin, 'GET', `${v2}/connections/${crmConnOut.id}`);
  await manage.getByTestId(`replace-connection-${crmTpl.connectionTemplateId}`).click();
  await manage.getByTestId('step-replace-connection').waitFor();
  await manage.getByTestId('credential-api-key').fill('crm-secret-2');
  await manage.getByTestId('save-connection').click();
  await manage.getByTestId('success-message').waitFor();
  const after = await ok(admin, 'GET', `${v2}/connections/${crmConnOut.id}`);
  assertEqual(after.name, before.name, 'the connection keeps its name');
  assert(after.credentials[0].credential.id !== before.credentials[0].credential.id, 'its credential was replaced');
  const put = requests.filter((r) => r.method === 'PUT').pop();
  assertEqual(JSON.parse(put.body).credentials[0].credential.data, { string: { value: 'crm-secret-2' } }, 'the new key, in v2 form');
  assertEqual((await ok(admin, 'GET', `${v2}/environments/${env}/activations/${act.id}`)).connections.find((c) => c.connectionTemplateId === crmTpl.connectionTemplateId).id, crmConnOut.id, 'the activation still uses that connection');

  step('deactivate: Cancel keeps it, Confirm removes it');
  await manage.getByTestId('deactivate').click();
  const confirm = page.getByTestId('confirm-dialog');
  await confirm.waitFor();
  await confirm.getByTestId('cancel').click();
  await confirm.waitFor({ state: 'detached' });
  assertEqual((await activationsOf()).length, 1, 'Cancel deactivates nothing');
  await manage.getByTestId('deactivate').click();
  await confirm.getByTestId('confirm').click();
  await manage.waitFor({ state: 'detached' });
  await page.getByTestId('success-message').waitFor();
  assertEqual((await activationsOf()).length, 0, 'the activation is gone');
  assertEqual((await admin('GET', `${v2}/environments/${env}/activations/${act.id}`)).status, 404, 'GetActivation says so');
  assertEqual((await admin('GET', `${v2}/users/${user}`)).status, 200, 'the end user stays');
  await eventually(async () => (await tile(project.id).getAttribute('data-activated')) === 'false', 'the tile to lose its badge');
  await expectCount(0, 'the count goes down');
  await screenshot(page, 'v2-05-grid-after-deactivation');

  step('OAuth2: activate Team chat alerts through the popup and the hosted callback');
  await tile(chat.id).click();
  await wizard.getByTestId('step-connection-0').waitFor();
  assert((await wizard.getByTestId('auth-scheme').innerText()).includes('Sign in with OAuth2'), 'the v2 oauth2 scheme is understood');
  const popupPromise = context.waitForEvent('page');
  await wizard.getByTestId('oauth-connect').click();
  const popup = await popupPromise;
  await eventually(async () => (await wizard.getByTestId('oauth-status').getAttribute('data-state')) === 'connected', 'the popup flow to finish', 20_000);
  await eventually(() => popup.isClosed(), 'the popup to close');
  const init = requests.find((r) => r.method === 'POST' && r.url.endsWith(`/api/v2/o/${O}/systems/${chatSystem.id}/oauth2/initialise`));
  assert(init, 'the page asked v2 for the authorize URL, naming the system');
  const initBody = JSON.parse(init.body);
  assertEqual([initBody.clientId, initBody.authorizeUrl, initBody.scopes, initBody.prompt], ['hub-v2-client', `${oauthUrl}/authorize`, ['messages:write'], 'consent'], 'the initialise body');
  assert(initBody.credential?.id && initBody.credential?.organisationId === O, `the grant's credential: ${JSON.stringify(initBody.credential)}`);
  assertEqual(authorizeRequests.length, 1, 'the provider was asked once');
  assertEqual([authorizeRequests[0].client_id, authorizeRequests[0].redirect_uri], ['hub-v2-client', `${sy.url}/oauth2/callback`], 'the authorize request');
  await wizard.getByTestId('next').click();
  await wizard.getByTestId('step-review').waitFor();
  await wizard.getByTestId('activate').click();
  await wizard.waitFor({ state: 'detached' });
  await eventually(async () => (await tile(chat.id).getAttribute('data-activated')) === 'true', 'the Connected badge on Team chat alerts');
  await expectCount(1, 'Team chat alerts is connected');
  const sentChat = JSON.parse(requests.filter((r) => r.method === 'POST' && r.url.endsWith(`/api/v2/o/${O}/activations`)).pop().body);
  assertEqual(sentChat.connections[0].connection.credentials[0].credential.type, 'oauth2-code', 'an oauth2-code credential');
  assertEqual(Object.keys(sentChat.connections[0].connection.credentials[0].credential.data), ['oauth2Code'], 'in v2 form');
  assertEqual(tokenRequests.length, 1, 'the code was exchanged once');
  assertEqual([tokenRequests[0].grant_type, tokenRequests[0].code], ['authorization_code', issuedCodes[0]], 'the code the provider issued');
  const chatActs = await ok(admin, 'GET', `${v2}/environments/${chatEnv}/activations`);
  assertEqual(chatActs.map((a) => a.user.externalId), [user], 'erin is activated on Team chat alerts');
  const chatConn = chatActs[0].connections.find((c) => c.connectionTemplateId === chatTpl.connectionTemplateId);
  assertEqual(chatConn?.credentials?.[0]?.credential?.type, 'oauth2-token', 'the connection holds the token');

  step('the host application mints the JWT and embeds the hub with embed.js');
  const hostApp = await startHostServer({ switchyardUrl: sy.url, organisationId: O, signingKey: { id: key.id, privateKey: key.privateKey }, host: '127.0.0.1', port: 0 });
  cleanups.push(() => hostApp.close());
  const hostPage = await context.newPage();
  setPage(hostPage);
  hostPage.on('pageerror', (e) => pageErrors.push(String(e)));
  await hostPage.goto(`${hostApp.url}/?user=${user}&messages=${encodeURIComponent(JSON.stringify({ 'grid.title': 'Your apps' }))}`);
  const iframe = hostPage.locator('iframe[title="Acme integrations"]');
  await iframe.waitFor();
  const src = new URL(await iframe.getAttribute('src'));
  assertEqual(src.origin, sy.url, 'the iframe shows the switchyard origin');
  const frag = new URLSearchParams(src.hash.slice(1));
  assertEqual([frag.get('org'), frag.get('origin')], [O, new URL(hostApp.url).origin], 'the fragment carries org and the host origin');
  assertEqual(src.searchParams.get('o'), O, 'the query names the organisation');
  assert((frag.get('jwt') ?? '').split('.').length === 3, 'and a JWT');
  const hubFrame = hostPage.frameLocator('iframe[title="Acme integrations"]');
  await hubFrame.getByTestId(`tile-${project.id}`).waitFor();
  assertEqual(await hubFrame.locator('[data-testid^="tile-"]').count(), 2, 'the same two tiles');
  assertEqual(await hubFrame.locator('h1').innerText(), 'Your apps', 'the host\'s words (Switchyard.mount messages)');
  await eventually(async () => (await iframe.boundingBox()).height > 150, 'the iframe to be resized to its content');
  await screenshot(hostPage, 'v2-06-host-page');
  await hostPage.close();
  setPage(page);

  step('a bad, expired or missing token is explained on the page');
  const lone = await context.newPage();
  setPage(lone);
  const loadErr = lone.getByTestId('load-error');
  await lone.goto(`${sy.url}/hub/#jwt=not-a-jwt&org=${O}`);
  await loadErr.waitFor();
  assert((await loadErr.innerText()).includes('not a JSON Web Token'), `not a JWT: ${await loadErr.innerText()}`);
  await lone.goto('about:blank');
  const expired = mintJwt({ keyId: key.id, privateKey: key.privateKey, sub: user, iat: Math.floor(Date.now() / 1000) - 3600, ttl: 60 });
  await lone.goto(`${sy.url}/hub/#jwt=${expired}&org=${O}`);
  await loadErr.waitFor();
  assert((await loadErr.innerText()).includes('Your session has ended'), `an expired token: ${await loadErr.innerText()}`);
  assertEqual([await lone.getByRole('button', { name: /try again/i }).count(), await lone.getByTestId('search').count()], [0, 0], 'an ended session offers nothing that cannot work');
  assertEqual((await axeViolations(lone.mainFrame())), [], 'axe: no serious or critical violation (ended session)');
  await lone.goto('about:blank');
  await lone.goto(`${sy.url}/hub/#org=${O}`);
  await loadErr.waitFor();
  assert((await loadErr.innerText()).includes('Missing from the address: jwt'), `no jwt: ${await loadErr.innerText()}`);
  await lone.goto('about:blank');
  await lone.goto(`${sy.url}/hub/?o=01J0000000000000000000000Z#jwt=${jwt}&org=${O}`);
  await lone.getByTestId('wrong-organisation').waitFor();
  assertEqual(await lone.locator('[data-testid^="tile-"]').count(), 0, 'another organisation in the address: nothing is shown');
  await lone.close();
  setPage(page);

  step('no unexpected errors in the pages');
  // Expected: the refused activation (400), the expired token (401). Nothing the page asked before
  // erin existed answered an error (no 404: the page creates her rather than looking her up).
  const unexpected = pageErrors.filter((e) => !/status of (400|401)/.test(e));
  assertEqual(unexpected, [], 'no page errors');
}

await run(main);
