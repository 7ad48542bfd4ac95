#!/usr/bin/env python3
"""Sign-in through an external OpenID Connect provider, with a second Inopsio acting as that provider.

Usage: federation_test.py LOCAL_URL UPSTREAM_URL   (two running `inopsio serve`, separate databases)

Upstream: a tenant whose admin (Ada) will sign in, and a confidential OAuth client for the local server.
Local: a tenant that trusts the upstream issuer, mapping `email == ada@...` to the `manager` role, and a public
client that starts the authorization. Ada signs in at upstream, comes back, is created just in time with the mapped
role, and the local client gets tokens for her. A second sign-in reuses the same account.
"""
import base64
import hashlib
import re
import secrets
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import jwt as pyjwt
import requests

PASSWORD = "correct horse battery"
APP_REDIRECT = "http://127.0.0.1:9/cb"


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.action, self.links = {}, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")
        if tag == "a" and attrs.get("href", "").startswith("/oauth2/authorize/federated"):
            self.links.append(attrs["href"])


def parse(html):
    page = Page()
    page.feed(html)
    return page


def step(message):
    print(f"federation: {message}", flush=True)


def signup(base, slug, email):
    reply = requests.post(f"{base}/api/v1/identity/signup", json={
        "tenant_slug": slug, "tenant_name": slug, "name": "Ada Lovelace", "email": email, "password": PASSWORD}, timeout=30)
    assert reply.status_code == 201, reply.text
    return reply.json()["tokens"]["access_token"]


def sign_in_through_provider(local, upstream, client_id, email):
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": APP_REDIRECT,
                       "scope": "openid profile email", "state": state, "nonce": secrets.token_urlsafe(12),
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    form = requests.get(f"{local}/oauth2/authorize?{query}", timeout=30)
    assert form.status_code == 200, form.text
    links = parse(form.text).links
    assert len(links) == 1, "the sign-in form offers the provider"
    to_upstream = requests.get(urljoin(local, links[0].replace("&amp;", "&")), allow_redirects=False, timeout=30)
    assert to_upstream.status_code == 303, to_upstream.text
    assert to_upstream.headers["Location"].startswith(f"{upstream}/oauth2/authorize?"), to_upstream.headers
    upstream_form = requests.get(to_upstream.headers["Location"], timeout=30)
    assert upstream_form.status_code == 200, upstream_form.text
    page = parse(upstream_form.text)
    back = requests.post(f"{upstream}{page.action}", data={**page.fields, "email": email, "password": PASSWORD},
                         allow_redirects=False, timeout=30)
    assert back.status_code == 303 and back.headers["Location"].startswith(f"{local}/oauth2/callback?"), back.text
    to_app = requests.get(back.headers["Location"], allow_redirects=False, timeout=30)
    assert to_app.status_code == 303, to_app.text
    location = to_app.headers["Location"]
    assert location.startswith(APP_REDIRECT), location
    params = parse_qs(urlparse(location).query)
    assert params["state"] == [state], location
    tokens = requests.post(f"{local}/oauth2/token", data={
        "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": APP_REDIRECT,
        "client_id": client_id, "code_verifier": verifier}, timeout=30)
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def main(local, upstream):
    suffix = secrets.token_hex(3)
    email = f"ada@up-{suffix}.example"
    upstream_admin = signup(upstream, f"up-{suffix}", email)
    local_admin = signup(local, f"acme-{suffix}", f"admin@acme-{suffix}.example")
    broker = requests.post(f"{upstream}/api/v1/identity/oauth-clients",
                           headers={"Authorization": f"Bearer {upstream_admin}"},
                           json={"name": "Local Inopsio", "client_type": "confidential",
                                 "redirect_uris": [f"{local}/oauth2/callback"]}, timeout=30)
    assert broker.status_code == 201, broker.text
    provider = requests.post(f"{local}/api/v1/identity/providers",
                             headers={"Authorization": f"Bearer {local_admin}"},
                             json={"name": "Upstream", "issuer": upstream, "client_id": broker.json()["client_id"],
                                   "client_secret": broker.json()["client_secret"],
                                   "role_rules": [{"claim": "email", "value": email, "role": "manager"}],
                                   "default_roles": ["user"]}, timeout=30)
    assert provider.status_code == 201, provider.text
    assert "client_secret" not in provider.json() and provider.json()["has_client_secret"] is True
    app = requests.post(f"{local}/api/v1/identity/oauth-clients", headers={"Authorization": f"Bearer {local_admin}"},
                        json={"name": "App", "client_type": "public", "redirect_uris": [APP_REDIRECT]}, timeout=30)
    assert app.status_code == 201, app.text
    client_id = app.json()["client_id"]
    step("upstream tenant, broker client, local provider and app client ready")

    first = sign_in_through_provider(local, upstream, client_id, email)
    claims = pyjwt.decode(first["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["manager"], claims
    info = requests.get(f"{local}/oauth2/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"},
                        timeout=30)
    assert info.status_code == 200 and info.json()["email"] == email, info.text
    step("signed in at upstream, created just in time locally with the mapped role manager")

    second = sign_in_through_provider(local, upstream, client_id, email)
    again = pyjwt.decode(second["access_token"], options={"verify_signature": False})
    assert again["sub"] == claims["sub"], "the second sign-in reuses the linked account"
    users = requests.get(f"{local}/api/v1/identity/users", headers={"Authorization": f"Bearer {local_admin}"},
                         params={"email": email}, timeout=30)
    assert len(users.json()["data"]) == 1, users.text
    audit = requests.get(f"{local}/api/v1/identity/audit", headers={"Authorization": f"Bearer {local_admin}"},
                         params={"action": "user.created"}, timeout=30).json()["data"]
    assert any(record["actor"]["kind"] == "provider" for record in audit), audit
    step("second sign-in linked to the same account; creation audited with the provider as actor")
    print("federation: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"))
