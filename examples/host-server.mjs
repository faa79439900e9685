#!/usr/bin/env node
// A host application's backend, as small as it gets: it keeps the organisation API key on the
// server, asks Switchyard for a hub session for the signed-in user, and serves a page
// (host.html) that embeds the hub with embed.js. Node 18+, no dependencies.
//
//   node examples/host-server.mjs --switchyard http://127.0.0.1:8950 --api-key <key> --hub <hubId> [--port 8960]
//   (or SWITCHYARD_URL, SWITCHYARD_API_KEY, SWITCHYARD_HUB_ID, HOST_PORT)
//
// Then open http://127.0.0.1:8960/?user=alice. `user` stands in for your application's own login:
// a real host takes the user from its session, never from the address.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const HOST_PAGE = fileURLToPath(new URL('./host.html', import.meta.url));

/**
 * Starts the host server. Resolves to `{url, server, close()}` once it listens.
 * `allowedIntegrations` (optional) limits every session to those integrations.
 */
export async function startHostServer({ switchyardUrl, apiKey, hubId, host = '127.0.0.1', port = 0, allowedIntegrations, ttlSeconds }) {
  if (!switchyardUrl || !apiKey || !hubId) throw new Error('switchyardUrl, apiKey and hubId are required');
  const base = switchyardUrl.replace(/\/+$/, '');

  async function createSession(user, integrations) {
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
  const port = Number(arg('port') ?? process.env.HOST_PORT ?? 8960);
  if (!apiKey || !hubId) {
    console.error('usage: node examples/host-server.mjs --api-key <organisation API key> --hub <hubId> [--switchyard http://127.0.0.1:8950] [--port 8960]');
    process.exit(2);
  }
  const { url } = await startHostServer({ switchyardUrl, apiKey, hubId, port });
  console.log(`host page: ${url}/?user=alice`);
}
