#!/usr/bin/env node
// A host application's backend, as small as it gets: it keeps the organisation's secret on the
// server, gives the signed-in user a hub session, and serves a page (host.html) that embeds the
// hub with embed.js. Node 18+, no dependencies. Two ways:
//
// Embedded API v1 (hubs): asks Switchyard for a session with the organisation API key.
//   node examples/host-server.mjs --switchyard http://127.0.0.1:8950 --api-key <key> --hub <hubId> [--port 8960]
//   (or SWITCHYARD_URL, SWITCHYARD_API_KEY, SWITCHYARD_HUB_ID, HOST_PORT)
//
// Platform API v2 (projects): mints the user's JWT itself with a signing key of the organisation
// (POST /api/organisations/v1/organisations/{org}/keys; keep the private key on your server) and
// hands the page <switchyard>/hub/?o=<org>#jwt=<token>&org=<org>.
//   node examples/host-server.mjs --switchyard http://127.0.0.1:8950 --org <organisationId> --key-id <keyId> --private-key <key.pem>
//   (or SWITCHYARD_ORG_ID, SWITCHYARD_KEY_ID, SWITCHYARD_PRIVATE_KEY_FILE)
//
// Then open http://127.0.0.1:8960/?user=alice. `user` stands in for your application's own login:
// a real host takes the user from its session, never from the address.
import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const HOST_PAGE = fileURLToPath(new URL('./host.html', import.meta.url));

/**
 * An end user's JWT for Platform API v2: RS256 with the signing key's private key (PKCS #8 PEM),
 * `iss` naming the key as Versori writes it, `sub` the user's id in your application.
 */
export function mintEndUserJwt({ keyId, privateKey, sub, ttlSeconds = 3600, now = Math.floor(Date.now() / 1000) }) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signingInput = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: `https://versori.com/sk/${keyId}`, sub, iat: now, exp: now + ttlSeconds })}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

/**
 * Starts the host server. Resolves to `{url, server, createSession(user), close()}` once it listens.
 * Embedded API v1: `apiKey` and `hubId`; `allowedIntegrations` (optional) limits every session to
 * those integrations. Platform API v2: `organisationId` and `signingKey` (`{id, privateKey}`).
 */
export async function startHostServer({ switchyardUrl, apiKey, hubId, organisationId, signingKey, host = '127.0.0.1', port = 0, allowedIntegrations, ttlSeconds }) {
  const v2 = !!signingKey;
  if (!switchyardUrl || (v2 ? !organisationId || !signingKey.id || !signingKey.privateKey : !apiKey || !hubId)) {
    throw new Error('switchyardUrl and either apiKey and hubId (v1) or organisationId and signingKey (v2) are required');
  }
  const base = switchyardUrl.replace(/\/+$/, '');

  async function createSession(user, integrations) {
    if (v2) {
      // Nothing to ask Switchyard: the token is signed here, and the hub page calls Platform API v2 with it.
      const ttl = ttlSeconds ?? 1800;
      const jwt = mintEndUserJwt({ keyId: signingKey.id, privateKey: signingKey.privateKey, sub: user, ttlSeconds: ttl });
      return {
        token: jwt,
        // `?o=`: the hub page is served with the organisation's framing policy (hubFrameAncestors).
        url: `${base}/hub/?o=${encodeURIComponent(organisationId)}#jwt=${encodeURIComponent(jwt)}&org=${encodeURIComponent(organisationId)}`,
        expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
      };
    }
    const body = {};
    const allowed = integrations ?? allowedIntegrations;
    if (allowed && allowed.length) body.allowedIntegrations = allowed;
    if (ttlSeconds) body.ttlSeconds = ttlSeconds;
    const res = await fetch(
      `${base}/api/embedded/v1/hubs/${encodeURIComponent(hubId)}/users/${encodeURIComponent(user)}/sessions?identifier_type=external`,
      { method: 'POST', headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    );
    const text = await res.text();
    if (res.status !== 201 && res.status !== 200) throw new Error(`creating a session: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  const send = (res, status, type, body) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://host.invalid');
    try {
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        send(res, 200, 'text/html; charset=utf-8', await readFile(HOST_PAGE));
      } else if (req.method === 'GET' && url.pathname === '/session') {
        // The page asks for a session for its user; the API key never leaves this server.
        const user = url.searchParams.get('user') || 'demo-user';
        const integrations = url.searchParams.get('integrations')?.split(',').filter(Boolean);
        const session = await createSession(user, integrations);
        send(res, 200, 'application/json', JSON.stringify({ ...session, switchyardUrl: new URL(session.url).origin }));
      } else {
        send(res, 404, 'text/plain; charset=utf-8', 'not found');
      }
    } catch (e) {
      send(res, 502, 'application/json', JSON.stringify({ message: String(e?.message ?? e) }));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address();
  return {
    url: `http://${host}:${actual}`,
    server,
    createSession,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const switchyardUrl = arg('switchyard') ?? process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8950';
  const apiKey = arg('api-key') ?? process.env.SWITCHYARD_API_KEY;
  const hubId = arg('hub') ?? process.env.SWITCHYARD_HUB_ID;
  const organisationId = arg('org') ?? process.env.SWITCHYARD_ORG_ID;
  const keyId = arg('key-id') ?? process.env.SWITCHYARD_KEY_ID;
  const keyFile = arg('private-key') ?? process.env.SWITCHYARD_PRIVATE_KEY_FILE;
  const port = Number(arg('port') ?? process.env.HOST_PORT ?? 8960);
  const v2 = !!(organisationId && keyId && keyFile);
  if (!v2 && (!apiKey || !hubId)) {
    console.error('usage: node examples/host-server.mjs --api-key <organisation API key> --hub <hubId> [--switchyard http://127.0.0.1:8950] [--port 8960]');
    console.error('   or: node examples/host-server.mjs --org <organisationId> --key-id <signing key id> --private-key <key.pem> [--switchyard ...] [--port ...]');
    console.error('(a hub and its API key: README "First steps", or node examples/seed-demo.mjs <organisationId> <apiKey>, which prints this command)');
    process.exit(2);
  }
  const { url } = v2
    ? await startHostServer({ switchyardUrl, organisationId, signingKey: { id: keyId, privateKey: await readFile(keyFile, 'utf8') }, port })
    : await startHostServer({ switchyardUrl, apiKey, hubId, port });
  console.log(`host page: ${url}/?user=alice`);
}
