"""Public pages and probes: the citizen's ``client_url``, health, readiness, problem types."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from .appkeys import SETTINGS, STORE, TEMPLATES, VERIFIER
from .errors import PROBLEM_TYPES, NotFound, Unavailable
from .i18n import language, purpose_label
from .models import Source, session_ref

log = logging.getLogger(__name__)


async def get_client_page(request: web.Request) -> web.StreamResponse:
    """The citizen's chat. A ``result`` token is checked, stored, then stripped by a 303."""
    sid = request.match_info["sid"]
    store = request.app[STORE]
    if "result" in request.query:
        await store.get(sid)  # 404 for an unknown session before any crypto work
        auth = request.app[VERIFIER].check(request.query["result"])
        fresh = await store.deliver(sid, auth, Source.CLIENT_URL)
        if fresh:
            log.info("session %s attributes received via client_url names=%s verified=%s",
                     session_ref(sid), sorted(auth.attributes), auth.verified)
        kept = [(k, v) for k, v in request.query.items() if k != "result"]
        clean = request.rel_url.with_query(kept or None)
        raise web.HTTPSeeOther(location=str(clean), headers={"Cache-Control": "no-store"})
    session = await store.get(sid)
    await store.touch(sid)
    ticket = await store.issue_ticket(sid)
    settings = request.app[SETTINGS]
    lang = language(request, settings.ui.default_language)
    client_config = {
        "lang": lang,
        "ticket": ticket,
        "websocket_url": settings.xmpp.websocket_url,
        "guest_domain": settings.xmpp.guest_domain,
        "muc_domain": settings.xmpp.muc_domain,
        "component_domain": settings.xmpp.component_domain,
    }
    body = request.app[TEMPLATES].get_template("citizen.html").render(
        lang=lang, ui=settings.ui, purpose=purpose_label(session.purpose, lang),
        status=session.status.value, config_json=json.dumps(client_config),
        path=request.path)
    return web.Response(text=body, content_type="text/html")


async def get_healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def get_readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers; reports whether the XMPP component is connected."""
    store = request.app[STORE]
    try:
        await store.ping()
    except Unavailable as exc:
        return web.json_response({"status": "unavailable", "redis": "down", "xmpp": "unknown",
                                  "detail": exc.detail}, status=503)
    xmpp_up = await store.component_alive()
    return web.json_response({"status": "ok" if xmpp_up else "degraded", "redis": "up",
                              "xmpp": "up" if xmpp_up else "down"},
                             status=200 if xmpp_up else 503)


async def get_problem_type(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if slug not in PROBLEM_TYPES:
        raise NotFound("no such problem type")
    return web.json_response({"type": f"/problems/{slug}", "description": PROBLEM_TYPES[slug]})


async def get_openapi(request: web.Request) -> web.Response:
    from .openapi import document
    return web.json_response(document(request.app[SETTINGS]))
