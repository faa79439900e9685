// A real OAuth2 provider for Switchyard's tests: npm's oauth2-mock-server, made strict where a real
// provider is strict, and counting what it is asked.
//
//   node server.mjs            prints one JSON line: {"issuer": "...", "control": "..."}
//
// On top of oauth2-mock-server it:
// - accepts only the client CLIENT_ID / CLIENT_SECRET (env, defaults below) on the token endpoint;
// - makes authorization codes single-use and bound to the redirect_uri and PKCE challenge they
//   were issued with (a code issued with a challenge needs the matching code_verifier);
// - rotates refresh tokens: each one works once, then `invalid_grant`;
// - issues access tokens with a configurable lifetime (POST /config {"expiresIn": n});
// - counts token requests by grant type: GET /counts on the control server;
// - revokes every refresh token on POST /revoke.
// - serves the same provider over HTTPS requiring a client certificate (mutual TLS) signed by the
//   test CA in ../fixtures/mtls (the mock's own request handler behind Node's TLS server), and counts
//   the token requests that came with a verified client certificate.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { OAuth2Server } from 'oauth2-mock-server';

const CLIENT_ID = process.env.CLIENT_ID ?? 'switchyard-test-client';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? 'switchyard-test-secret';

const config = { expiresIn: 3600 };
const counts = { authorization_code: 0, refresh_token: 0, client_credentials: 0, password: 0, rejected: 0, mtls: 0 };
const codes = new Map(); // code -> {redirectUri, challenge}
const liveRefreshTokens = new Set();
const rejections = [];

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

// Every token unique (the mock's JWTs are otherwise equal within a second).
server.service.on('beforeTokenSigning', (token) => {
  token.payload.jti = randomUUID();
});

server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  if (code) codes.set(code, { redirectUri: req.query.redirect_uri, challenge: req.query.code_challenge ?? null });
});

function reject(response, error, description) {
  counts.rejected++;
  rejections.push(`${error}: ${description}`);
  response.statusCode = 400;
  response.body = { error, error_description: description };
}

server.service.on('beforeResponse', (response, req) => {
  const body = req.body ?? {};
  const grant = body.grant_type;
  if (grant in counts) counts[grant]++;
  if (req.socket?.authorized) counts.mtls++;
  // Client authentication: form fields or HTTP Basic.
  let clientId = body.client_id;
  let clientSecret = body.client_secret;
  const auth = req.headers.authorization;
  if (auth && auth.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
    clientId = decodeURIComponent(id);
    clientSecret = decodeURIComponent(secret ?? '');
  }
  if (clientId !== CLIENT_ID || clientSecret !== CLIENT_SECRET) {
    reject(response, 'invalid_client', 'unknown client or wrong secret');
    response.statusCode = 401;
    return;
  }
  if (grant === 'authorization_code') {
    const issued = codes.get(body.code);
    codes.delete(body.code);
    if (!issued) return reject(response, 'invalid_grant', 'unknown or already used code');
    if (issued.redirectUri !== body.redirect_uri) return reject(response, 'invalid_grant', 'redirect_uri differs from the authorize request');
    if (issued.challenge && !body.code_verifier) return reject(response, 'invalid_grant', 'code_verifier required');
  }
  if (grant === 'refresh_token') {
    if (!liveRefreshTokens.delete(body.refresh_token)) return reject(response, 'invalid_grant', 'unknown or already used refresh token');
  }
  if (response.statusCode === 200 && typeof response.body === 'object') {
    response.body.expires_in = config.expiresIn;
    if (response.body.refresh_token) liveRefreshTokens.add(response.body.refresh_token);
  }
});

await server.start(0, '127.0.0.1');

const fixtures = new URL('../fixtures/mtls/', import.meta.url);
const mtlsServer = https.createServer(
  {
    key: readFileSync(new URL('server.key', fixtures)),
    cert: readFileSync(new URL('server.crt', fixtures)),
    ca: readFileSync(new URL('ca.crt', fixtures)),
    requestCert: true,
    rejectUnauthorized: true,
  },
  server.service.requestHandler,
);
await new Promise((resolve) => mtlsServer.listen(0, '127.0.0.1', resolve));

const control = http.createServer((req, res) => {
  const send = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'GET' && req.url === '/counts') return send(200, { ...counts, rejections });
  if (req.method === 'POST' && req.url === '/config') {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      Object.assign(config, JSON.parse(data || '{}'));
      send(200, config);
    });
    return;
  }
  if (req.method === 'POST' && req.url === '/revoke') {
    liveRefreshTokens.clear();
    return send(200, {});
  }
  if (req.method === 'POST' && req.url === '/reset') {
    for (const k of Object.keys(counts)) counts[k] = 0;
    rejections.length = 0;
    return send(200, counts);
  }
  send(404, { error: 'not found' });
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));

const issuer = server.issuer.url.replace('//localhost:', '//127.0.0.1:');
console.log(
  JSON.stringify({
    issuer,
    mtlsIssuer: `https://127.0.0.1:${mtlsServer.address().port}`,
    control: `http://127.0.0.1:${control.address().port}`,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  }),
);

// Exit with the parent (the test): stdin closes when it goes.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
