"""Public pages and probes: the citizen's ``client_url``, health, readiness, problem types."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping

from aiohttp import web

from . import metrics
from .appkeys import SETTINGS, STORE, TEMPLATES, VERIFIER
from .errors import PROBLEM_TYPES, Forbidden, IdChatError, NotFound, Unavailable
from .i18n import language
from .middleware import render_problem
from .models import Source

log = logging.getLogger(__name__)

BROWSER_COOKIE = "idchat_browser"


async def get_client_page(request: web.Request) -> web.StreamResponse:
    """The citizen's chat. A ``result`` token is checked, stored, then stripped by a 303."""
    sid = request.match_info["sid"]
    store = request.app[STORE]
    if "result" in request.query:
        return await _accept_result(request, sid)
    settings = request.app[SETTINGS]
    token, fresh = request.cookies.get(BROWSER_COOKIE), secrets.token_urlsafe(32)
    session, fresh_cookie, ticket = await store.open_page(sid, _hash(token) if token else "",
                                                          _hash(fresh))
    cookie = fresh if fresh_cookie else None
    lang = language(request, settings.ui.default_language)
    client_config = {
        "lang": lang,
        "ticket": ticket,
        "websocket_url": settings.xmpp.websocket_url,
        "guest_domain": settings.xmpp.guest_domain,
        "muc_domain": settings.xmpp.muc_domain,
        "component_domain": settings.xmpp.component_domain,
        "details": session.status.value,
    }
    body = request.app[TEMPLATES].get_template("citizen.html").render(
        lang=lang, ui=settings.ui, purpose=settings.topics.catalogue().label(session.purpose, lang),
        status=session.status.value, config_json=_script_json(client_config),
        path=request.path)
    response = web.Response(text=body, content_type="text/html")
    _set_browser_cookie(request, response, cookie)
    return response


async def _accept_result(request: web.Request, sid: str) -> web.Response:
    """``?result=<token>``: only from the browser the chat belongs to, or as the first visit,
    which binds it. Another browser gets a 403 and changes nothing (the attr_url stays usable)."""
    store = request.app[STORE]
    await store.get(sid)  # 404 for an unknown session before any crypto work
    auth = request.app[VERIFIER].check(request.query["result"])
    cookie = await _bind_browser(request, sid, refusal=Forbidden(
        "this chat belongs to another browser; the login result was not used",
        slug="result-other-browser"))
    kept = [(k, v) for k, v in request.query.items() if k != "result"]
    response: web.Response = web.Response(
        status=303, headers={"Location": str(request.rel_url.with_query(kept or None))})
    try:
        if await store.deliver(sid, auth, Source.CLIENT_URL):
            metrics.ATTRIBUTES_DELIVERED.labels("client_url").inc()
    except IdChatError as exc:
        response = render_problem(request, exc)  # the browser is bound all the same
    _set_browser_cookie(request, response, cookie)
    return response


async def post_ticket(request: web.Request) -> web.Response:
    """A fresh claim ticket for the page after a lost connection (same browser only)."""
    sid = request.match_info["sid"]
    store = request.app[STORE]
    await store.get(sid)
    token = request.cookies.get(BROWSER_COOKIE, "")
    if not token or not await store.bind_browser(sid, _hash(token)):
        raise Forbidden("this chat belongs to another browser", slug="chat-open-elsewhere")
    await store.touch(sid)
    return web.json_response({"ticket": await store.issue_ticket(sid)})


async def get_details(request: web.Request) -> web.Response:
    """Whether the citizen's details have arrived (the status only, never a value), for the
    page's status line; answered only to the browser that holds the chat."""
    sid = request.match_info["sid"]
    store = request.app[STORE]
    session = await store.get(sid)
    token = request.cookies.get(BROWSER_COOKIE, "")
    if not token or not await store.bind_browser(sid, _hash(token)):
        raise Forbidden("this chat belongs to another browser", slug="chat-open-elsewhere")
    return web.json_response({"status": session.status.value})


async def _bind_browser(request: web.Request, sid: str,
                        refusal: Forbidden | None = None) -> str | None:
    """The first browser to open a client_url owns the chat; returns a new cookie or None.
    Another browser gets ``refusal`` (a 403), and the binding stays as it was."""
    store = request.app[STORE]
    token = request.cookies.get(BROWSER_COOKIE)
    if token and await store.bind_browser(sid, _hash(token)):
        return None
    fresh = secrets.token_urlsafe(32)
    if await store.bind_browser(sid, _hash(fresh)):
        return fresh
    raise refusal or Forbidden("this chat is already open in another browser",
                               slug="chat-open-elsewhere")


def _set_browser_cookie(request: web.Request, response: web.StreamResponse,
                        cookie: str | None) -> None:
    # Lax, not Strict: the citizen arrives by a cross-site redirect (the auth plugin's
    # ?result=, or the core), and browsers withhold Strict cookies on such a navigation,
    # its redirects and even its reloads, so the bound browser would look like another.
    # Cross-site POSTs (the ticket) still go without it; no page can be framed.
    if cookie:
        response.set_cookie(BROWSER_COOKIE, cookie, path=request.path, httponly=True,
                            samesite="Lax",
                            secure=request.app[SETTINGS].http.external_url.startswith("https://"))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def get_agent_console(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    lang = language(request, settings.ui.default_language)
    catalogue = settings.topics.catalogue()
    client_config = {
        "lang": lang,
        "websocket_url": settings.xmpp.websocket_url,
        "agent_domain": settings.xmpp.agent_domain,
        "muc_domain": settings.xmpp.muc_domain,
        "component_domain": settings.xmpp.component_domain,
        "purposes": {tag: labels[lang] for tag, labels in catalogue.purposes.items()},
        "attribute_labels": catalogue.attribute_labels(lang),
        # oidc: the console signs in through /agent/signin and its credential
        # (xmpp_plugin/api/agent_signin.py) instead of a password form.
        "signin": "oidc" if settings.agents.mode == "oidc" else "password",
        "auth_in_chat": settings.auth.enabled,
    }
    body = request.app[TEMPLATES].get_template("agent.html").render(
        lang=lang, ui=settings.ui, config_json=_script_json(client_config), path=request.path)
    return web.Response(text=body, content_type="text/html")


async def get_healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def get_readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers; reports whether the XMPP component is connected, and,
    with Sentinel, when Redis does not answer because its primary is being replaced."""
    store = request.app[STORE]
    try:
        await store.ping()
    except Unavailable as exc:
        if await store.failover_state() == "failing-over":
            return _not_ready({"status": "unavailable", "redis": "failing-over", "xmpp": "unknown",
                               "detail": "the Sentinels are replacing the Redis primary; "
                                         "requests fail until a replica has taken over"})
        return _not_ready({"status": "unavailable", "redis": "down", "xmpp": "unknown",
                           "detail": exc.detail})
    xmpp_up = await store.component_alive()
    body = {"status": "ok" if xmpp_up else "degraded", "redis": "up",
            "xmpp": "up" if xmpp_up else "down"}
    return web.json_response(body) if xmpp_up else _not_ready(body)


def _not_ready(body: dict[str, str]) -> web.Response:
    return web.json_response(body, status=503,
                             headers={"Retry-After": str(Unavailable.retry_after)})


async def get_problem_type(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if slug not in PROBLEM_TYPES:
        raise NotFound("no such problem type")
    return web.json_response({"type": f"/problems/{slug}", "description": PROBLEM_TYPES[slug]})


async def get_openapi(request: web.Request) -> web.Response:
    from .openapi import document
    return web.json_response(document(request.app[SETTINGS]))


def _script_json(data: Mapping[str, object]) -> str:
    """JSON safe inside <script type="application/json">: no '<' can close the element."""
    return json.dumps(data).replace("<", "\\u003c")
