"""Logging set-up: the application log (no personal data, no query strings) and the audit log."""

from __future__ import annotations

import logging
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT, stream=sys.stderr, force=True)
    # slixmpp logs whole stanzas at DEBUG; stanzas may carry attribute values.
    logging.getLogger("slixmpp").setLevel(max(logging.INFO, logging.getLevelName(level.upper())))


class AccessLogger(AbstractAccessLogger):
    """Method, path without the query (a ``?result=`` token must not be logged), status, time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = getattr(getattr(request, "match_info", None), "route", None)
        path = route.resource.canonical if route is not None and route.resource else "-"
        self.logger.info("%s %s %s %.1fms", request.method, path, response.status, time * 1000)
