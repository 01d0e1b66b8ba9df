"""A stand-in for the ID Contact core and an auth plugin, for the demo only (off by default).

It mints auth-result tokens exactly as the reference auth plugins do (JWE around
``{"njwt": <JWS>}``) with the demo keys, calls our internal API over HTTP as the core
would, and sends the browser to the chat by the chosen delivery route. For an
authentication during the chat it plays the core's ``session_options`` and ``/start``
(checking our signed request as the core does) and a login page: pick a person, or fail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

import jwt
from aiohttp import ClientSession, web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwe

from .appkeys import SETTINGS, TEMPLATES
from .errors import InvalidRequest, NotFound
from .i18n import language
from .keys import PrivateKey, PublicKey, load_private_key, load_public_key, to_jwk
from .middleware import require_content_type

log = logging.getLogger(__name__)

ROUTES = ("auth_result", "attr_url", "attr_url_late", "client_url")
LATE_DELAY_SECONDS = 8
HTTP = web.AppKey("simulator_http", ClientSession)
TIMERS = web.AppKey("simulator_timers", list)
LOGINS = web.AppKey("simulator_logins", dict)

# The simulated core's authentication methods (every purpose allows both) and its people.
METHODS = {"digid": "DigiD", "yivi": "Yivi"}
PEOPLE = (
    {"fullname": "Juliet Capulet", "email": "juliet@capulet.lit", "city": "Verona", "bsn": "999990019"},
    {"fullname": "Romeo Montague", "email": "romeo@montague.lit", "city": "Mantua", "bsn": "999993653"},
)
MAX_LOGINS = 200          # pending simulated logins kept (demo: one process, in memory)
LOGIN_SECONDS = 600


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
    app[LOGINS] = {}
    yield
    for timer in app[TIMERS]:
        timer.cancel()
    await app[HTTP].close()


# -- the core's side of an authentication during the chat (docs/protocol.md §11) ----------

async def get_session_options(request: web.Request) -> web.Response:
    if request.match_info["purpose"] not in request.app[SETTINGS].topics.catalogue().topics:
        raise NotFound("no such purpose at this core")
    return web.json_response({"auth_methods": list(METHODS)})


async def post_start(request: web.Request) -> web.Response:
    """``POST /start``: a JWS signed with the requestor's key, ``kid`` = its name."""
    require_content_type(request, "application/jwt")
    settings = request.app[SETTINGS]
    try:
        raw = (await request.read()).decode("ascii")
        header = jwt.get_unverified_header(raw)
        if header.get("kid") != settings.auth.requestor:
            raise InvalidRequest("unknown requestor (kid)", slug="request-signature")
        claims = jwt.decode(raw, load_public_key(settings.demo.requestor_pubkey),
                            algorithms=["RS256", "ES256"], options={"require": ["exp", "iat"]})
    except (UnicodeDecodeError, jwt.PyJWTError) as exc:
        raise InvalidRequest("the request is not a valid JWS of the requestor",
                             slug="request-signature") from exc
    req = claims.get("request")
    if not isinstance(req, dict) or not all(isinstance(req.get(k), str) for k in
                                            ("purpose", "auth_method", "comm_url", "attr_url")):
        raise InvalidRequest("the request lacks purpose, auth_method, comm_url or attr_url")
    h = settings.http
    if req["purpose"] not in settings.topics.catalogue().topics or req["auth_method"] not in METHODS \
            or not req["comm_url"].startswith(f"{h.external_url}/s/") \
            or not req["attr_url"].startswith(f"{h.internal_url}/attributes/"):
        raise InvalidRequest("purpose, method or URLs not allowed at this core")
    logins: dict[str, dict[str, Any]] = request.app[LOGINS]
    now = time.monotonic()
    for key in [k for k, v in logins.items() if v["until"] < now]:
        del logins[key]
    if len(logins) >= MAX_LOGINS:
        logins.pop(next(iter(logins)))
    login_id = secrets.token_urlsafe(24)
    logins[login_id] = {**req, "until": now + LOGIN_SECONDS}
    log.info("core simulator: login requested (%s)", req["auth_method"])
    return web.json_response({"client_url": f"{h.external_url}/demo/core/login/{login_id}"})


async def get_login(request: web.Request) -> web.Response:
    login = _login(request)
    lang = language(request, request.app[SETTINGS].ui.default_language)
    body = request.app[TEMPLATES].get_template("simulator-auth.html").render(
        lang=lang, ui=request.app[SETTINGS].ui, people=PEOPLE,
        method_label=METHODS[login["auth_method"]])
    return web.Response(text=body, content_type="text/html")


async def post_login(request: web.Request) -> web.Response:
    """Log in as a person, or fail: the token goes to the attr_url, the browser back to the
    chat (comm_url). Cancel: back to the chat, nothing posted."""
    login = _login(request)
    form = await request.post()
    action = str(form.get("action", ""))
    if action == "login":
        index = str(form.get("person", ""))
        if not index.isdigit() or int(index) >= len(PEOPLE):
            raise InvalidRequest("choose a person", slug="invalid-request")
        attributes: dict[str, str] | None = dict(PEOPLE[int(index)])
    elif action in ("fail", "cancel"):
        attributes = None
    else:
        raise InvalidRequest("log in, fail or cancel", slug="invalid-request")
    del request.app[LOGINS][request.match_info["login"]]
    if action != "cancel":
        settings = request.app[SETTINGS]
        token = mint_token(auth_claims(attributes),
                           load_public_key(settings.demo.encryption_pubkey),
                           load_private_key(settings.demo.signing_privkey))
        await _post_attributes(request.app[HTTP], login["attr_url"], token)
    raise web.HTTPSeeOther(location=login["comm_url"])


def _login(request: web.Request) -> dict[str, Any]:
    login = request.app[LOGINS].get(request.match_info["login"])
    if login is None or login["until"] < time.monotonic():
        raise NotFound("no such login request; it was used or has expired")
    return login  # type: ignore[no-any-return]
