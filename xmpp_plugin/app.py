"""``create_app(settings)``: the HTTP service, read as a table of contents."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import aiohttp
import jinja2
from aiohttp import web

from . import metrics, pages, simulator
from .agent_store import AgentStore
from .api import agent_signin, attributes, sessions
from .appkeys import AGENTS, OIDC, SETTINGS, STORE, TEMPLATES, VERIFIER
from .i18n import TEXT
from .keys import load_private_key, load_public_key, refuse_test_keys_outside_demo
from .logs import AccessLogger, server_log
from .middleware import PARSER_LIMITS, problem_middleware, redis_budget_middleware
from .oidc import Provider
from .security import security_headers
from .settings import Settings
from .store import SessionStore, connect
from .tokens import TokenVerifier

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
CONVERSE_DIST = WEB_DIR / "node_modules" / "converse.js" / "dist"


def create_app(settings: Settings) -> web.Application:
    """Raises :class:`SettingsError` for unusable keys, and for the published test keys
    unless ``demo.enabled``."""
    refuse_test_keys_outside_demo(settings)
    app = web.Application(client_max_size=settings.http.max_body_bytes,
                          middlewares=[security_headers, problem_middleware,
                                       redis_budget_middleware],
                          handler_args={**PARSER_LIMITS, "logger": server_log(),
                                        "access_log_class": AccessLogger})
    app[SETTINGS] = settings
    app[VERIFIER] = TokenVerifier(load_private_key(settings.tokens.decryption_privkey),
                                  load_public_key(settings.tokens.signature_pubkey),
                                  leeway=settings.tokens.leeway_seconds)
    app[TEMPLATES] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined)
    app[TEMPLATES].globals["texts"] = TEXT
    app.cleanup_ctx.append(_redis_ctx)
    _routes(app, settings)
    return app


def _routes(app: web.Application, settings: Settings) -> None:
    r = app.router
    r.add_post("/start_communication", sessions.post_start_communication)
    r.add_post("/attributes/{attr_id}", attributes.post_attributes)
    r.add_get("/s/{sid}", pages.get_client_page, name="page:client")
    r.add_post("/s/{sid}/ticket", pages.post_ticket)
    r.add_get("/s/{sid}/details", pages.get_details)
    r.add_get("/agent", pages.get_agent_console, name="page:agent")
    if settings.agents.mode == "oidc":
        r.add_get("/agent/signin", agent_signin.get_signin, name="page:agent-signin")
        r.add_get("/agent/oidc/callback", agent_signin.get_callback, name="page:agent-callback")
        r.add_post("/agent/credential", agent_signin.post_credential)
        r.add_post("/agent/signout", agent_signin.post_signout)
        app.cleanup_ctx.append(_oidc_ctx)
    r.add_get("/healthz", pages.get_healthz)
    r.add_get("/readyz", pages.get_readyz)
    r.add_get("/metrics", metrics.get_metrics)
    r.add_get("/openapi.json", pages.get_openapi)
    r.add_get("/problems/{slug}", pages.get_problem_type)
    r.add_static("/static/", WEB_DIR / "static", name="static")
    r.add_static("/idchat/", WEB_DIR / "idchat", name="idchat")
    if CONVERSE_DIST.is_dir():
        r.add_static("/converse/", CONVERSE_DIST, name="converse")
    if settings.demo.core_simulator:
        r.add_get("/demo/core", simulator.get_core_simulator, name="page:simulator")
        r.add_post("/demo/core", simulator.post_core_simulator, name="page:simulator-post")
        r.add_get("/demo/core/session_options/{purpose}", simulator.get_session_options)
        r.add_post("/demo/core/start", simulator.post_start)
        r.add_get("/demo/core/login/{login}", simulator.get_login, name="page:simulator-login")
        r.add_post("/demo/core/login/{login}", simulator.post_login)
        app.cleanup_ctx.append(simulator.http_client_ctx)


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = connect(settings)
    app[STORE] = SessionStore.from_settings(client, settings)
    yield
    await client.aclose()


async def _oidc_ctx(app: web.Application) -> AsyncIterator[None]:
    """The OpenID Provider client (after _redis_ctx: the sign-ins live in Redis too)."""
    settings = app[SETTINGS]
    async with aiohttp.ClientSession(raise_for_status=False) as http:
        app[OIDC] = Provider(settings.agents, f"{settings.http.external_url}{agent_signin.COOKIE_PATH}"
                             "/oidc/callback", http)
        app[AGENTS] = AgentStore(app[STORE].redis, prefix=settings.redis.key_prefix,
                                 seal_key=settings.store.attributes_key_bytes(),
                                 idle_ttl=settings.agents.session_idle_seconds,
                                 max_ttl=settings.agents.session_max_seconds)
        yield
