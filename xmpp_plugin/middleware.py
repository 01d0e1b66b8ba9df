"""One error middleware: every error leaves as an RFC 9457 problem document
(or, for a browser asking for a page, as an HTML error page with the same status).
It also holds requests to our size limits for the request line and headers."""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from aiohttp import web

from . import metrics
from .appkeys import SETTINGS, TEMPLATES
from .errors import (
    HeaderFieldsTooLarge,
    IdChatError,
    PayloadTooLarge,
    UnsupportedMediaType,
    UriTooLong,
)
from .i18n import error_text, language
from .store import redis_budget

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PROBLEM_JSON = "application/problem+json"

# Our limits. aiohttp's parser is given more room (PARSER_LIMITS, app.py), so that a
# request between the two gets a problem document here instead of aiohttp's bare 400;
# beyond the parser's limits logs.ServerLog keeps the request line out of the log.
MAX_REQUEST_TARGET = 8190   # path and query, as aiohttp's default line limit
MAX_HEADER_FIELD = 8190     # one header, name and value
MAX_HEADER_TOTAL = 32768    # all headers together
PARSER_LIMITS = {"max_line_size": 32768, "max_field_size": 16384, "max_headers": 64}


def _from_http(exc: web.HTTPException) -> IdChatError:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge("the request body is larger than allowed")
    err = IdChatError(exc.reason or "error")
    err.status = exc.status
    err.title = exc.reason or "Error"
    err.slug = {404: "not-found", 405: "method-not-allowed", 415: "unsupported-media-type",
                400: "invalid-request"}.get(exc.status, "internal-error")
    return err


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        _check_sizes(request)
        return await handler(request)
    except IdChatError as exc:
        return render_problem(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return render_problem(request, _from_http(exc), headers=exc.headers)
    except Exception:
        # Never log the request body or the exception text: either may hold personal data.
        log.error("unhandled error on %s %s", request.method, request.match_info.route.name or "?",
                  exc_info=_debug_tracebacks())
        return render_problem(request, IdChatError("an unexpected error occurred; nothing was changed"))


def _check_sizes(request: web.Request) -> None:
    if len(request.raw_path) > MAX_REQUEST_TARGET:
        raise UriTooLong(f"the path and query may be at most {MAX_REQUEST_TARGET} bytes")
    total = 0
    for name, value in request.raw_headers:
        size = len(name) + len(value)
        if size > MAX_HEADER_FIELD:
            raise HeaderFieldsTooLarge(f"a header may be at most {MAX_HEADER_FIELD} bytes")
        total += size
    if total > MAX_HEADER_TOTAL:
        raise HeaderFieldsTooLarge(f"the headers may be at most {MAX_HEADER_TOTAL} bytes together")


def render_problem(request: web.Request, exc: IdChatError,
                   headers: object = None) -> web.Response:
    metrics.problem(exc.slug)
    extra = {}
    if headers is not None and "Allow" in headers:  # type: ignore[operator]
        extra["Allow"] = headers["Allow"]  # type: ignore[index]
    if exc.retry_after is not None:
        extra["Retry-After"] = str(exc.retry_after)
    if _wants_html(request):
        env = request.app[TEMPLATES]
        ui = request.app[SETTINGS].ui
        lang = language(request, ui.default_language)
        heading, what, advice = error_text(exc.slug, lang)
        # A refused sign-in's language links lead to the console, not to a callback whose
        # state was used up.
        path = "/agent" if exc.slug.startswith("oidc-") else request.path
        body = env.get_template("error.html").render(
            lang=lang, ui=ui, path=path, status=exc.status, heading=heading, what=what,
            advice=advice, retry=exc.status == 503,
            # An agent's refused sign-in names its check, for the service desk.
            code=exc.slug if exc.slug.startswith("oidc-") else "")
        return web.Response(status=exc.status, text=body, content_type="text/html",
                            headers=extra)
    instance = None if isinstance(exc, UriTooLong) else request.path  # never echo a huge path
    return web.json_response(exc.problem(instance), status=exc.status,
                             content_type=PROBLEM_JSON, headers=extra)


def _wants_html(request: web.Request) -> bool:
    route = request.match_info.route
    is_page = route.name is not None and route.name.startswith("page:")
    return is_page and "text/html" in request.headers.get("Accept", "")


def require_content_type(request: web.Request, expected: str) -> None:
    if request.content_type != expected:
        raise UnsupportedMediaType(f"Content-Type must be {expected}")


def _debug_tracebacks() -> bool:
    # Tracebacks can quote local values; only with IDCHAT_DEBUG_TRACEBACKS=1 (never in production).
    import os
    return os.environ.get("IDCHAT_DEBUG_TRACEBACKS") == "1"


@web.middleware
async def redis_budget_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request's Redis work is done within redis.timeout_seconds, or it gets a 503."""
    with redis_budget(request.app[SETTINGS].redis.timeout_seconds):
        return await handler(request)
