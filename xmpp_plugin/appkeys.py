"""Every ``web.AppKey`` of the HTTP service, in one place."""

from __future__ import annotations

import jinja2
from aiohttp import web

from .agent_store import AgentStore
from .oidc import Provider
from .settings import Settings
from .store import SessionStore
from .tokens import TokenVerifier

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", SessionStore)
VERIFIER = web.AppKey("verifier", TokenVerifier)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
AGENTS = web.AppKey("agents", AgentStore)
OIDC = web.AppKey("oidc", Provider)
