"""Logging set-up: the application log (no personal data, no query strings) and the audit log."""

from __future__ import annotations

import logging
import sys
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT, stream=sys.stderr, force=True)
    # slixmpp logs whole stanzas at DEBUG; stanzas may carry attribute values.
    logging.getLogger("slixmpp").setLevel(max(logging.INFO, logging.getLevelName(level.upper())))


class AccessLogger(AbstractAccessLogger):
    """Method, route template (never a path with ids, never a query: a ``?result=`` token
    must not be logged), status, time. A request aiohttp could not parse logs ``-``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1fms", request.method, _route_template(request),
                         response.status, time * 1000)


def _route_template(request: web.BaseRequest) -> str:
    try:
        resource = request.match_info.route.resource  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):  # not routed: aiohttp refused it while parsing
        return "-"
    return resource.canonical if resource is not None else "-"


class ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server logger (``handler_args["logger"]``) minus what it would quote of a
    request it cannot parse (the request line: a session id, a token): one line naming the
    error, at most WARNING."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            self.logger.log(min(level, logging.WARNING), "refused an HTTP request aiohttp could "
                            "not parse: %s (%s)", type(exc).__name__, exc.code)
            return
        super().log(level, msg, *args, **kwargs)


def server_log() -> ServerLog:
    return ServerLog(logging.getLogger("aiohttp.server"), {})
