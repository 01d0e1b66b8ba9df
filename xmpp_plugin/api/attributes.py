"""``POST <attr_url>``: attributes delivered by an auth plugin or the core."""

from __future__ import annotations

from aiohttp import web

from .. import metrics
from ..appkeys import STORE, VERIFIER
from ..errors import InvalidRequest
from ..middleware import require_content_type
from ..models import Source


async def post_attributes(request: web.Request) -> web.Response:
    require_content_type(request, "application/jwt")
    store = request.app[STORE]
    attr_id = request.match_info["attr_id"]
    sid = await store.session_for_attr_url(attr_id)  # 404 before any crypto work
    try:
        token = (await request.read()).decode("ascii")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the body must be a compact JWE (ASCII)", slug="token-malformed") from exc
    auth = request.app[VERIFIER].check(token)
    if await store.deliver(sid, auth, Source.ATTR_URL, via_attr_id=attr_id):
        metrics.ATTRIBUTES_DELIVERED.labels("attr_url").inc()
    return web.Response(status=200)
