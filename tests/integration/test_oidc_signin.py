"""Agents sign in with OpenID Connect (agents.mode = "oidc"): the HTTP service against the
real demo provider (scripts/oidc_provider.mjs, npm oidc-provider) and the real Redis; a
forging provider for ID tokens no honest provider sends. No XMPP server is needed here:
the credential's use by Prosody and ejabberd is tests/integration/test_oidc_xmpp.py."""

from __future__ import annotations

import json
import re
import time
from typing import Any, AsyncIterator
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp
import jwt
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from xmpp_plugin import credential
from xmpp_plugin.app import create_app
from xmpp_plugin.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def service(make_settings: Any, oidc_env: dict[str, str]) -> AsyncIterator[Any]:
    """The HTTP service on the port the provider knows; ``service(**env)`` for other settings."""
    servers: list[TestServer] = []

    async def start(**env: str) -> tuple[str, Settings]:
        settings = make_settings(**{**oidc_env, **env})
        server = TestServer(create_app(settings), host="127.0.0.1", port=settings.http.port)
        await server.start_server()
        servers.append(server)
        return settings.http.external_url, settings
    yield start
    for server in servers:
        await server.close()


def _browser() -> aiohttp.ClientSession:
    # unsafe: cookies for an IP address host (127.0.0.1), as a browser keeps them
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _follow(browser: aiohttp.ClientSession, url: str, stop_at: str,
                  method: str = "GET", data: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    """Follow redirects by hand until a response that is not one, or one to ``stop_at``."""
    for _ in range(10):
        response = await browser.request(method, url, data=data, allow_redirects=False)
        await response.read()
        if response.status not in (302, 303) or url.startswith(stop_at):
            return response
        url, method, data = urljoin(url, response.headers["Location"]), "GET", None
    raise AssertionError("too many redirects")


async def sign_in(browser: aiohttp.ClientSession, base: str, user: str,
                  otp: str = "") -> aiohttp.ClientResponse:
    """Through the real provider's login form (or its session, when it has one); returns
    our callback's answer."""
    form_page = await _follow(browser, f"{base}/agent/signin", stop_at=f"{base}/agent/oidc")
    if str(form_page.url).startswith(base):
        return form_page  # the provider's session signed the user in without a form
    action = re.search(r'action="([^"]+)"', await form_page.text()).group(1)  # type: ignore[union-attr]
    return await _follow(browser, urljoin(str(form_page.url), action), method="POST",
                         data={"login": user, "password": user, "otp": otp},
                         stop_at=f"{base}/agent/oidc/callback")


async def _keys(redis_client: aioredis.Redis, settings: Settings, kind: str) -> list[bytes]:
    return [k async for k in redis_client.scan_iter(f"{settings.redis.key_prefix}:{kind}:*")]


async def test_anna_signs_in_renews_and_signs_out_and_a_refused_renewal_ends_it(
        service: Any, oidc_provider: Any, redis_client: aioredis.Redis) -> None:
    base, settings = await service()
    async with _browser() as browser:
        callback = await sign_in(browser, base, "anna")
        assert callback.status == 303 and callback.headers["Location"] == "/agent"
        cookie = callback.headers.getall("Set-Cookie")
        session_cookie = next(c for c in cookie if c.startswith("idchat_agent="))
        assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie
        assert "Path=/agent" in session_cookie
        # Redis holds the session sealed: no user name, no refresh token in the clear.
        [key] = await _keys(redis_client, settings, "agentsession")
        assert b"anna" not in await redis_client.get(key)
        login_cookie = next(c for c in cookie if c.startswith("idchat_oidc_login="))
        assert 'idchat_oidc_login=""' in login_cookie  # the sign-in's cookie is dropped

        answer = await browser.post(f"{base}/agent/credential")
        body = await answer.json()
        assert answer.status == 200, body
        assert body["jid"] == "anna@agents.idchat.localhost"
        assert body["roles"] == ["agent"] and body["purposes"] is None  # kcc-algemeen=*
        claims = credential.verify(settings.agents.credential_key_bytes(), body["credential"])
        assert claims["jid"] == body["jid"] and claims["exp"] - time.time() <= 300
        grant = json.loads(await redis_client.get(
            f"{settings.redis.key_prefix}:agentgrant:anna@agents.idchat.localhost"))
        assert grant["roles"] == ["agent"] and grant["exp"] == claims["exp"]
        assert 0 < await redis_client.ttl(
            f"{settings.redis.key_prefix}:agentgrant:anna@agents.idchat.localhost") <= 300

        # A renewal asks the provider again: the role it gives now is the one that counts.
        oidc_provider.set_user("anna", groups=["kcc-belastingen"])
        body = await (await browser.post(f"{base}/agent/credential")).json()
        assert body["purposes"] == ["report_move", "request_permit"]

        # The provider no longer knows anna (a leaver): the renewal is refused, and the
        # console session and the grant end with it.
        oidc_provider.set_user("anna", active=False)
        try:
            refused = await browser.post(f"{base}/agent/credential")
            assert refused.status == 400
            assert (await refused.json())["type"] == "/problems/oidc-provider"
            assert not await _keys(redis_client, settings, "agentsession")
            assert not await _keys(redis_client, settings, "agentgrant")
            after = await browser.post(f"{base}/agent/credential")
            assert after.status == 401
            assert (await after.json())["type"] == "/problems/agent-signed-out"
        finally:
            oidc_provider.set_user("anna", active=True, groups=["kcc-algemeen"])

        # Signing in again, then out: the grant goes at once, the provider's logout is offered.
        assert (await sign_in(browser, base, "anna")).status == 303
        assert (await browser.post(f"{base}/agent/credential")).status == 200
        assert await _keys(redis_client, settings, "agentgrant")
        out = await browser.post(f"{base}/agent/signout")
        assert (await out.json())["logout_url"].startswith(f"{oidc_provider.issuer}/session/end?")
        assert not await _keys(redis_client, settings, "agentgrant")
        assert not await _keys(redis_client, settings, "agentsession")
        assert (await browser.post(f"{base}/agent/credential")).status == 401

    async with _browser() as browser:
        browser.headers["Accept"] = "text/html"
        # pieter has no role: 403, in Dutch, with the check's own code for the service desk.
        page = await sign_in(browser, base, "pieter")
        text = await page.text()
        assert page.status == 403 and "Inloggen is niet gelukt" in text
        assert "geen rol als medewerker" in text and "oidc-role" in text
        assert 'href="/agent?lang=en"' in text  # the language switch leads to the console
        assert not await _keys(redis_client, settings, "agentsession")


async def test_refused_sign_ins_get_a_clear_page_and_leave_nothing(
        service: Any, redis_client: aioredis.Redis) -> None:
    base, settings = await service(IDCHAT_AGENTS_REQUIRED_ACR="urn:idchat:demo:mfa")
    async with _browser() as browser:
        browser.headers["Accept"] = "text/html"
        # anna signs in with a password only; MFA is required here.
        page = await sign_in(browser, base, "anna")
        assert page.status == 400 and "tweede factor" in await page.text()
        assert not await _keys(redis_client, settings, "agentsession")
    async with _browser() as browser:
        # mark signs in with his one-time code: accepted.
        assert (await sign_in(browser, base, "mark", otp="123456")).status == 303
        assert (await browser.post(f"{base}/agent/credential", headers={"Accept": "application/json"})).status == 200
        # A callback without this browser's sign-in cookie (another browser, a replay after
        # it was dropped) is refused.
        replay = await browser.get(f"{base}/agent/oidc/callback?state=x&code=y&lang=en")
        assert replay.status == 400 and "began in another browser" in await replay.text()


async def test_renewals_ask_the_provider_at_most_every_provider_check_seconds(
        service: Any, oidc_provider: Any) -> None:
    base, _ = await service(IDCHAT_AGENTS_PROVIDER_CHECK_SECONDS="60")
    async with _browser() as browser:
        assert (await sign_in(browser, base, "sophie")).status == 303
        oidc_provider.set_user("sophie", active=False)
        try:
            # The provider confirmed sophie at the sign-in: a minute of renewals does not
            # ask it again, however often the console (or a script with its cookie) asks.
            for _ in range(3):
                answer = await browser.post(f"{base}/agent/credential")
                assert answer.status == 200
                assert (await answer.json())["roles"] == ["agent", "supervisor"]
        finally:
            oidc_provider.set_user("sophie", active=True)


# -- a forging provider: ID tokens an honest provider never sends ---------------------------

FORGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def forger(aiohttp_server: Any) -> Any:
    """Discovery, keys and a token endpoint that answers with ``forger.id_token(nonce)``."""
    state: dict[str, Any] = {}

    async def discovery(request: web.Request) -> web.Response:
        issuer = state["issuer"]
        return web.json_response({"issuer": issuer, "authorization_endpoint": f"{issuer}/auth",
                                  "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks"})

    async def jwks(request: web.Request) -> web.Response:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(FORGER_KEY.public_key()))
        return web.json_response({"keys": [{**key, "kid": "k1", "use": "sig"}]})

    async def token(request: web.Request) -> web.Response:
        return web.json_response({"id_token": state["make"](state["nonce"]), "token_type": "Bearer",
                                  "access_token": "a"})

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    app.router.add_post("/token", token)
    server = await aiohttp_server(app)
    state["issuer"] = str(server.make_url("")).rstrip("/")
    return state


def _forged(issuer: str, change: dict[str, Any], key: Any = FORGER_KEY, alg: str = "RS256") -> Any:
    def make(nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": issuer, "sub": "anna", "aud": "idchat-agent", "iat": now,
                  "exp": now + 300, "nonce": nonce, "roles": ["agent"], **change}
        if alg == "none":
            return jwt.encode(claims, None, algorithm="none")
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": "k1"})
    return make


@pytest.mark.parametrize("change, key, alg, words", [
    ({"iss": "https://evil.example"}, FORGER_KEY, "RS256", "andere identiteitsprovider"),
    ({"aud": "someone-else"}, FORGER_KEY, "RS256", "andere toepassing"),
    ({"nonce": "stolen"}, FORGER_KEY, "RS256", "hoort niet bij deze inlogpoging"),
    ({"exp": int(time.time()) - 600}, FORGER_KEY, "RS256", "verlopen"),
    ({}, STRANGER_KEY, "RS256", "handtekening"),
    ({}, None, "none", "methode die niet is toegestaan"),
], ids=["issuer", "audience", "nonce", "expired", "wrong-key", "alg-none"])
async def test_a_bad_id_token_gets_its_own_page_and_signs_nobody_in(
        service: Any, forger: dict[str, Any], redis_client: aioredis.Redis,
        change: dict[str, Any], key: Any, alg: str, words: str) -> None:
    base, settings = await service(IDCHAT_AGENTS_ISSUER=forger["issuer"])
    issuer = forger["issuer"]
    forger["make"] = _forged(issuer, {k: v for k, v in change.items() if k != "nonce"}, key, alg)
    async with _browser() as browser:
        browser.headers["Accept"] = "text/html"
        start = await browser.get(f"{base}/agent/signin", allow_redirects=False)
        query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
        forger["nonce"] = change.get("nonce", query["nonce"])
        page = await browser.get(f"{base}/agent/oidc/callback",
                                 params={"state": query["state"], "code": "c"})
        text = await page.text()
        assert page.status == 400, text
        assert "Inloggen is niet gelukt" in text and words in text
        assert not await _keys(redis_client, settings, "agentsession")
        assert (await browser.post(f"{base}/agent/credential")).status == 401
