#!/usr/bin/env python3
"""Sign-in through GitHub's OAuth2, against a stand-in for GitHub that this script serves on loopback.

The stand-in implements the three calls Inopsio makes, as GitHub documents them (authorize redirect with
`code` and `state`, `POST /login/oauth/access_token` answering JSON when asked, `GET /api/v3/user` and
`/api/v3/user/emails` with a bearer token, the GitHub Enterprise Server layout). It is not GitHub: this machine
cannot reach github.com, so what is checked is Inopsio's side of the protocol.

Usage: github_test.py LOCAL_URL
"""
import base64
import hashlib
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import jwt as pyjwt
import requests

CLIENT_ID, CLIENT_SECRET = "Iv1.stand-in", "stand-in-secret-" + secrets.token_hex(8)
APP_REDIRECT = "http://127.0.0.1:9/cb"
CODES, TOKENS = {}, set()


class GitHub(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/login/oauth/authorize":
            assert query["client_id"] == CLIENT_ID and query["state"], query
            code = secrets.token_hex(10)
            CODES[code] = query["redirect_uri"]
            location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
            self.send_response(302)
            self.send_header("Location", location)
            self.end_headers()
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in TOKENS:
            return self.reply(401, {"message": "Bad credentials"})
        if url.path == "/api/v3/user":
            return self.reply(200, {"id": 4242, "login": "octo-ada", "name": "Ada Octo"})
        if url.path == "/api/v3/user/emails":
            return self.reply(200, [{"email": "old@octo.example", "primary": False, "verified": True},
                                    {"email": "ada@octo.example", "primary": True, "verified": True}])
        self.reply(404, {"message": "Not Found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path != "/login/oauth/access_token" or self.headers.get("Accept") != "application/json":
            return self.reply(404, {"message": "Not Found"})
        redirect = CODES.pop(form.get("code", ""), None)
        if form.get("client_secret") != CLIENT_SECRET or redirect is None or redirect != form.get("redirect_uri"):
            return self.reply(200, {"error": "bad_verification_code"})
        token = "gho_" + secrets.token_hex(16)
        TOKENS.add(token)
        self.reply(200, {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})


def main(local):
    github = ThreadingHTTPServer(("127.0.0.1", 0), GitHub)
    threading.Thread(target=github.serve_forever, daemon=True).start()
    stand_in = f"http://127.0.0.1:{github.server_address[1]}"
    suffix = secrets.token_hex(3)
    admin = requests.post(f"{local}/api/v1/identity/signup", json={
        "tenant_slug": f"gh-{suffix}", "tenant_name": "GitHub users", "name": "Admin", "email": f"admin@gh-{suffix}.example",
        "password": "correct horse battery"}, timeout=30).json()["tokens"]["access_token"]
    auth = {"Authorization": f"Bearer {admin}"}
    provider = requests.post(f"{local}/api/v1/identity/providers", headers=auth, json={
        "kind": "github", "name": "GitHub", "issuer": stand_in, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "role_rules": [{"claim": "login", "value": "octo-ada", "role": "manager"}]}, timeout=30)
    assert provider.status_code == 201, provider.text
    client_id = requests.post(f"{local}/api/v1/identity/oauth-clients", headers=auth, json={
        "name": "App", "client_type": "public", "redirect_uris": [APP_REDIRECT]}, timeout=30).json()["client_id"]

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": APP_REDIRECT,
                       "scope": "openid email", "state": "s1", "code_challenge": challenge, "code_challenge_method": "S256"})
    form = requests.get(f"{local}/oauth2/authorize?{query}", timeout=30).text
    start = form[form.index("/oauth2/authorize/federated"):].split('"')[0].replace("&amp;", "&")
    to_github = requests.get(urljoin(local, start), allow_redirects=False, timeout=30)
    assert to_github.headers["Location"].startswith(f"{stand_in}/login/oauth/authorize?"), to_github.headers
    back = requests.get(to_github.headers["Location"], allow_redirects=False, timeout=30)
    to_app = requests.get(back.headers["Location"], allow_redirects=False, timeout=30)
    assert to_app.status_code == 303 and to_app.headers["Location"].startswith(APP_REDIRECT), to_app.text
    code = parse_qs(urlparse(to_app.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{local}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": APP_REDIRECT, "client_id": client_id,
        "code_verifier": verifier}, timeout=30)
    assert tokens.status_code == 200, tokens.text
    claims = pyjwt.decode(tokens.json()["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["manager"], claims
    id_claims = pyjwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert id_claims["email"] == "ada@octo.example", id_claims
    print("github: signed in through GitHub OAuth2 (stand-in); primary verified email used; login mapped to manager")
    print("github: all checks passed")
    github.shutdown()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
