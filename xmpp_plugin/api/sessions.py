"""``POST /start_communication``: a new chat session for the core."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from .. import metrics
from ..appkeys import SETTINGS, STORE, VERIFIER
from ..errors import InvalidRequest
from ..middleware import require_content_type
from ..models import session_ref

log = logging.getLogger(__name__)

MAX_PURPOSE_LENGTH = 100


async def post_start_communication(request: web.Request) -> web.Response:
    require_content_type(request, "application/json")
    purpose, auth_result = _parse(await request.read())
    auth = request.app[VERIFIER].check(auth_result) if auth_result is not None else None
    session = await request.app[STORE].create(purpose, auth)
    request.app[SETTINGS].topics.catalogue().warn_unknown(purpose)  # served all the same
    settings = request.app[SETTINGS].http
    metrics.session_started(auth is not None)
    body = {"client_url": f"{settings.external_url}/s/{session.id}"}
    if session.attr_id:
        body["attr_url"] = f"{settings.internal_url}/attributes/{session.attr_id}"
    log.info("session %s created purpose=%s with_auth_result=%s",
             session_ref(session.id), purpose, auth is not None)
    return web.json_response(body)


def _parse(raw: bytes) -> tuple[str, str | None]:
    try:
        body = json.loads(raw)
    except RecursionError as exc:  # a few KB of '[' exhaust the parser's stack
        raise InvalidRequest("the JSON body nests too deep", slug="json-too-deep") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("the body is not valid JSON", slug="invalid-json") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", slug="invalid-json")
    purpose = body.get("purpose")
    if not isinstance(purpose, str) or not purpose.strip():
        raise InvalidRequest("'purpose' must be a non-empty string", slug="missing-purpose")
    if len(purpose) > MAX_PURPOSE_LENGTH or not purpose.isprintable():
        raise InvalidRequest("'purpose' must be a short printable tag", slug="missing-purpose")
    auth_result = body.get("auth_result")
    if auth_result is not None and not isinstance(auth_result, str):
        raise InvalidRequest("'auth_result' must be a string", slug="invalid-request")
    return purpose, auth_result
