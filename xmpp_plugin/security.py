"""Security headers on every response: CSP that keeps pages on our own origin and the XMPP WebSocket."""

from __future__ import annotations

from typing import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from .appkeys import SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC_PREFIXES = ("/static/", "/idchat/", "/converse/")


def content_security_policy(websocket_url: str) -> str:
    ws = urlsplit(websocket_url)
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        # Converse.js and lit set inline style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self' {ws.scheme}://{ws.netloc}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ])


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _apply(request, response)
        raise
    _apply(request, response)
    return response


def _apply(request: web.Request, response: web.StreamResponse) -> None:
    h = response.headers
    h.setdefault("Content-Security-Policy",
                 content_security_policy(request.app[SETTINGS].xmpp.websocket_url))
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(STATIC_PREFIXES):
        # Files without a version in their name: cache, but revalidate (Last-Modified).
        h.setdefault("Cache-Control", "no-cache")
    else:
        h.setdefault("Cache-Control", "no-store")  # pages and API answers are per session
