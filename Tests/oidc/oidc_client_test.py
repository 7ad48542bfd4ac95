#!/usr/bin/env python3
"""Inopsio as an OpenID Connect provider, driven by real client libraries.

Authlib completes authorization code + PKCE (S256), validates the ID token against the JWKS, refreshes, revokes,
and is refused afterwards. PyJWT verifies the access token from the JWKS alone.

Usage: oidc_client_test.py BASE_URL   (a running `inopsio serve`; the script signs up its own tenant)
"""
import secrets
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import jwt as pyjwt
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey
from authlib.jose import jwt as authlib_jwt
from authlib.oidc.core import CodeIDToken

REDIRECT_URI = "http://127.0.0.1:9/callback"
PASSWORD = "correct horse battery"


class HiddenFields(HTMLParser):
    """Collects the <form> fields of the sign-in page."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self.action = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def step(message):
    print(f"oidc: {message}", flush=True)


def main(base):
    slug = "oidc-" + secrets.token_hex(4)
    email = f"ada@{slug}.example"
    signup = requests.post(f"{base}/api/v1/identity/signup", json={
        "tenant_slug": slug, "tenant_name": "OIDC check", "name": "Ada", "email": email, "password": PASSWORD,
    }, timeout=30)
    assert signup.status_code == 201, signup.text
    admin = signup.json()["tokens"]["access_token"]
    registered = requests.post(f"{base}/api/v1/identity/oauth-clients", headers={"Authorization": f"Bearer {admin}"},
                               json={"name": "Authlib", "client_type": "public", "redirect_uris": [REDIRECT_URI],
                                     "allowed_scopes": ["openid", "profile", "email"]}, timeout=30)
    assert registered.status_code == 201, registered.text
    client_id = registered.json()["client_id"]
    step(f"tenant {slug}, public client {client_id}")

    metadata = requests.get(f"{base}/.well-known/openid-configuration", timeout=30).json()
    issuer = metadata["issuer"]
    client = OAuth2Session(client_id, redirect_uri=REDIRECT_URI, scope="openid profile email",
                           code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
    page = requests.get(url, timeout=30)
    assert page.status_code == 200, page.text
    form = HiddenFields()
    form.feed(page.text)
    assert form.fields.get("code_challenge"), "the sign-in form carries the PKCE challenge"
    answer = requests.post(f"{base}{form.action}", data={**form.fields, "email": email, "password": PASSWORD},
                           allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    callback = answer.headers["Location"]
    query = parse_qs(urlparse(callback).query)
    assert query["state"] == [state] and query["iss"] == [issuer], callback
    step("signed in through the authorize form; redirected with code, state and iss")

    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert token["token_type"].lower() == "bearer" and "refresh_token" in token, token
    step("code exchanged with the PKCE verifier")

    jwks = requests.get(metadata["jwks_uri"], timeout=30).json()
    claims = authlib_jwt.decode(token["id_token"], JsonWebKey.import_key_set(jwks), claims_cls=CodeIDToken,
                                claims_options={"iss": {"essential": True, "value": issuer}},
                                claims_params={"nonce": nonce, "client_id": client_id})
    claims.validate()
    assert claims["email"] == email and claims["aud"] == client_id, dict(claims)
    step("Authlib validated the ID token (signature from the JWKS, iss, aud, exp, nonce)")

    keys = pyjwt.PyJWKClient(metadata["jwks_uri"])
    access = pyjwt.decode(token["access_token"], keys.get_signing_key_from_jwt(token["access_token"]).key,
                          algorithms=["ES256"], audience="inopsio-api", issuer=issuer)
    assert access["client_id"] == client_id and access["tenant_id"], access
    step("PyJWT verified the access token from the JWKS alone")

    userinfo = client.get(metadata["userinfo_endpoint"], timeout=30)
    assert userinfo.status_code == 200 and userinfo.json()["email"] == email, userinfo.text

    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"], refreshed
    step("refreshed: a new refresh token replaced the old one")

    revoked = client.revoke_token(metadata["revocation_endpoint"], token=refreshed["refresh_token"],
                                  token_type_hint="refresh_token")
    assert revoked.status_code == 200, revoked.text
    try:
        client.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    except OAuthError as error:
        assert error.error == "invalid_grant", error
        step("after revocation the refresh is refused with invalid_grant")
    else:
        raise AssertionError("a revoked refresh token was accepted")
    print("oidc: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
