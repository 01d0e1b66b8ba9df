"""A stand-in for the ID Contact core and an auth plugin, for the demo only (off by default).

It mints auth-result tokens exactly as the reference auth plugins do (JWE around
``{"njwt": <JWS>}``) with the demo keys, calls our internal API over HTTP as the core
would, and sends the browser to the chat by the chosen delivery route.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import jwt
from aiohttp import ClientSession, web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwe

from .appkeys import SETTINGS, TEMPLATES
from .errors import InvalidRequest
from .i18n import language
from .keys import PrivateKey, PublicKey, load_private_key, load_public_key, to_jwk

log = logging.getLogger(__name__)

ROUTES = ("auth_result", "attr_url", "attr_url_late", "client_url")
LATE_DELAY_SECONDS = 8
HTTP = web.AppKey("simulator_http", ClientSession)
TIMERS = web.AppKey("simulator_timers", list)


def mint_token(claims: dict[str, Any], encryption_key: PublicKey, signing_key: PrivateKey,
               *, jws_headers: dict[str, Any] | None = None,
               jwe_header: dict[str, Any] | None = None) -> str:
    """A compact JWE as an ID Contact auth plugin makes it (CONTRACT.md)."""
    jws_alg = "RS256" if isinstance(signing_key, rsa.RSAPrivateKey) else "ES256"
    njwt = jwt.encode(claims, signing_key, algorithm=jws_alg, headers=jws_headers)
    alg = "RSA-OAEP" if isinstance(encryption_key, rsa.RSAPublicKey) else "ECDH-ES"
    header = jwe_header or {"typ": "JWT", "cty": "JWT", "alg": alg, "enc": "A128CBC-HS256"}
    token = jwe.JWE(json.dumps({"njwt": njwt}).encode(), protected=json.dumps(header))
    token.add_recipient(to_jwk(encryption_key))
    return token.serialize(compact=True)


def auth_claims(attributes: dict[str, str] | None, *, now: int | None = None,
                session_url: str | None = None, lifetime: int = 300) -> dict[str, Any]:
    """Claims of a successful (attributes given) or failed (None) authentication."""
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {"sub": "id-contact-attributes", "iat": now, "exp": now + lifetime,
                              "status": "succes" if attributes is not None else "failed"}
    if attributes is not None:
        claims["attributes"] = attributes
    if session_url:
        claims["session_url"] = session_url
    return claims


async def get_core_simulator(request: web.Request) -> web.Response:
    lang = language(request, request.app[SETTINGS].ui.default_language)
    catalogue = request.app[SETTINGS].topics.catalogue()
    body = request.app[TEMPLATES].get_template("simulator.html").render(
        lang=lang, ui=request.app[SETTINGS].ui, purposes=catalogue.purposes,
        attributes=catalogue.attributes, routes=ROUTES)
    return web.Response(text=body, content_type="text/html")


async def post_core_simulator(request: web.Request) -> web.Response:
    form = await request.post()
    purpose = str(form.get("purpose", ""))
    route = str(form.get("route", ""))
    catalogue = request.app[SETTINGS].topics.catalogue()
    if purpose not in catalogue.topics or route not in ROUTES:
        raise InvalidRequest("choose a purpose and a delivery route", slug="invalid-request")
    attributes = None if form.get("failed") else {
        name: str(form[name]) for name in catalogue.attributes if str(form.get(name, "")).strip()}
    if attributes == {}:  # a verified login that shares nothing is no demo of a card
        raise InvalidRequest("fill in at least one detail, or choose a failed login",
                             slug="invalid-request")
    settings = request.app[SETTINGS]
    token = mint_token(auth_claims(attributes),
                       load_public_key(settings.demo.encryption_pubkey),
                       load_private_key(settings.demo.signing_privkey))
    http = request.app[HTTP]
    internal = settings.http.internal_url
    payload = {"purpose": purpose} | ({"auth_result": token} if route == "auth_result" else {})
    async with http.post(f"{internal}/start_communication", json=payload) as resp:
        resp.raise_for_status()
        urls = await resp.json()
    if route == "attr_url":
        await _post_attributes(http, urls["attr_url"], token)
    elif route == "attr_url_late":
        task = asyncio.get_running_loop().call_later(
            LATE_DELAY_SECONDS, lambda: asyncio.ensure_future(
                _post_attributes(http, urls["attr_url"], token)))
        request.app[TIMERS].append(task)
    location = urls["client_url"]
    if route == "client_url":
        location += ("&" if "?" in location else "?") + "result=" + token
    log.info("core simulator started a session via %s", route)
    raise web.HTTPSeeOther(location=location)


async def _post_attributes(http: ClientSession, attr_url: str, token: str) -> None:
    async with http.post(attr_url, data=token, headers={"Content-Type": "application/jwt"}) as resp:
        if resp.status != 200:
            log.warning("core simulator: attr_url answered %s", resp.status)


async def http_client_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    app[HTTP] = ClientSession()
    app[TIMERS] = []
    yield
    for timer in app[TIMERS]:
        timer.cancel()
    await app[HTTP].close()
