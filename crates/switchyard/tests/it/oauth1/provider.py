"""A real OAuth 1.0a provider for Switchyard's tests: oauthlib's RFC 5849 endpoints (PyPI
`oauthlib`) behind Python's http.server, strict where a real provider is strict, and counting what
it is asked.

    python provider.py      prints one JSON line: {"base", "requestTokenUrl", "authorizeUrl",
                            "accessTokenUrl", "countsUrl", "consumerKey", "consumerSecret"};
                            exits when its standard input closes.

- Only the consumer CONSUMER_KEY / CONSUMER_SECRET (env, defaults below), HMAC-SHA1 or HMAC-SHA256
  signatures, fresh timestamps, and nonces never seen before.
- Temporary credentials need an oauth_callback; the authorize step consents at once and redirects
  to it with oauth_token and oauth_verifier (no HTML).
- A verifier works once, for the temporary token it was issued with: a wrong one burns the token.
- The token answer carries `user_id` besides the token and its secret.
- GET /counts: requests per endpoint, the rejected ones with oauthlib's reasons, and the access
  tokens issued (so that tests can look for their secrets where they must not be).
"""
import hmac
import json
import logging
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from oauthlib.oauth1 import (
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
)
from oauthlib.oauth1.rfc5849.errors import OAuth1Error

CONSUMER_KEY = os.environ.get("CONSUMER_KEY", "switchyardTestConsumer01")
CONSUMER_SECRET = os.environ.get("CONSUMER_SECRET", "consumer secret/with+odd&chars")

lock = threading.Lock()
counts = {"request_token": 0, "authorize": 0, "access_token": 0, "rejected": 0}
rejections = []
request_tokens = {}  # token -> {"secret", "callback", "verifier"}
access_tokens = {}  # token -> secret
nonces = set()

log = logging.getLogger("oauthlib")
log.setLevel(logging.INFO)


class Reasons(logging.Handler):
    """oauthlib logs why it refused a request: kept for /counts."""

    def emit(self, record):
        rejections.append(record.getMessage())


log.addHandler(Reasons())


class Validator(RequestValidator):
    @property
    def enforce_ssl(self):
        return False  # the test server speaks plain HTTP on loopback

    @property
    def allowed_signature_methods(self):
        return (SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256)

    dummy_client = "dummyClientKeyForTiming0"
    dummy_request_token = "dummyRequestTokenForTiming0"
    dummy_access_token = "dummyAccessTokenForTiming0"

    def validate_client_key(self, client_key, request):
        return hmac.compare_digest(client_key, CONSUMER_KEY)

    def get_client_secret(self, client_key, request):
        return CONSUMER_SECRET if client_key == CONSUMER_KEY else "dummy secret"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request, request_token=None, access_token=None):
        if abs(time.time() - int(timestamp)) > 300:
            return False
        key = (client_key, nonce, timestamp, request_token, access_token)
        with lock:
            if key in nonces:
                return False
            nonces.add(key)
        return True

    def get_default_realms(self, client_key, request):
        return []

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        return urlsplit(redirect_uri).scheme in ("http", "https")

    def save_request_token(self, token, request):
        with lock:
            request_tokens[token["oauth_token"]] = {"secret": token["oauth_token_secret"], "callback": request.redirect_uri, "verifier": None}

    def verify_request_token(self, token, request):
        return token in request_tokens

    def get_realms(self, token, request):
        return []

    def verify_realms(self, token, realms, request):
        return True

    def save_verifier(self, token, verifier, request):
        with lock:
            request_tokens[token]["verifier"] = verifier["oauth_verifier"]

    def get_redirect_uri(self, token, request):
        return request_tokens[token]["callback"]

    def validate_request_token(self, client_key, token, request):
        t = request_tokens.get(token)
        return bool(t and t["verifier"])

    def get_request_token_secret(self, client_key, token, request):
        t = request_tokens.get(token)
        return t["secret"] if t else "dummy secret"

    def validate_verifier(self, client_key, token, verifier, request):
        with lock:
            t = request_tokens.get(token)
            ok = bool(t and t["verifier"] and hmac.compare_digest(t["verifier"], verifier))
            if t and not ok:
                del request_tokens[token]  # one wrong guess burns the temporary token
        return ok

    def invalidate_request_token(self, client_key, request_token, request):
        with lock:
            request_tokens.pop(request_token, None)

    def save_access_token(self, token, request):
        with lock:
            access_tokens[token["oauth_token"]] = token["oauth_token_secret"]


validator = Validator()
request_token_endpoint = RequestTokenEndpoint(validator)
authorization_endpoint = AuthorizationEndpoint(validator)
access_token_endpoint = AccessTokenEndpoint(validator)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def uri(self):
        return f"http://{self.headers['Host']}{self.path}"

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode() if n else ""

    def answer(self, status, headers, body):
        if status >= 400:
            with lock:
                counts["rejected"] += 1
                rejections.append(f"{self.path.split('?')[0]}: HTTP {status} {body or ''}")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        data = (body or "").encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        path = urlsplit(self.path).path
        body = self.body()
        headers = dict(self.headers.items())
        if path == "/request_token":
            with lock:
                counts["request_token"] += 1
            h, b, s = request_token_endpoint.create_request_token_response(self.uri(), "POST", body, headers)
        elif path == "/access_token":
            with lock:
                counts["access_token"] += 1
            h, b, s = access_token_endpoint.create_access_token_response(self.uri(), "POST", body, headers, credentials={"user_id": "ada"})
        else:
            h, b, s = {}, "not found", 404
        self.answer(s, h, b)

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/authorize":
            with lock:
                counts["authorize"] += 1
            try:
                h, b, s = authorization_endpoint.create_authorization_response(self.uri(), "GET", None, dict(self.headers.items()))
            except OAuth1Error as e:
                h, b, s = {"Content-Type": "application/x-www-form-urlencoded"}, e.urlencoded, e.status_code
            self.answer(s, h, b)
        elif path == "/counts":
            with lock:
                issued = [{"token": t, "secret": s} for t, s in access_tokens.items()]
                body = json.dumps({**counts, "rejections": rejections, "issued": issued})
            self.answer(200, {"Content-Type": "application/json"}, body)
        else:
            self.answer(404, {}, "not found")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(
        json.dumps(
            {
                "base": base,
                "requestTokenUrl": f"{base}/request_token",
                "authorizeUrl": f"{base}/authorize",
                "accessTokenUrl": f"{base}/access_token",
                "countsUrl": f"{base}/counts",
                "consumerKey": CONSUMER_KEY,
                "consumerSecret": CONSUMER_SECRET,
            }
        ),
        flush=True,
    )
    # The test holds our standard input: when it closes (the test ended), so do we.
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
