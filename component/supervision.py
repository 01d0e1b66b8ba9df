"""Supervisors' live overview (docs/protocol.md §9): per purpose who waits and how long,
per agent availability and load, today's figures. Counts, durations and the agents'
own names only: no chat id, no citizen, no attribute.

Cost is bounded whatever a supervisor sends: the overview is read from Redis at most
once a second per instance (:mod:`component.overview`, itself bounded), at most
:data:`MAX_WATCHERS` resources are pushed to, and pushes go out from the one
instance holding the sweeper lease, every ``routing.supervisor_push_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from slixmpp import JID, Iq

from xmpp_plugin import metrics as shared
from xmpp_plugin.errors import Forbidden, Unavailable

from . import overview
from .overview import Overview
from .protocol import stanza
from .routing import DayCount
from .xmpp_errors import replies_errors

if TYPE_CHECKING:
    from .gateway import Gateway
    from .routing import Router

log = logging.getLogger(__name__)

MAX_WATCHERS = 50
WATCH_SECONDS = 600
MAX_WAIT_SAMPLES = 5000
DAY_TTL = 2 * 86400
ABANDONING = ("citizen", "timeout")  # who ends a waiting chat when the citizen gives up


def _today() -> str:
    return time.strftime("%Y-%m-%d")  # the server's local day: the contact centre's day


class DayStats:
    """Today's answered and abandoned chats, waits and service level, in Redis."""

    def __init__(self, router: "Router", service_level_seconds: int) -> None:
        self.router, self.sl = router, service_level_seconds

    def counting(self) -> DayCount:
        """How an accept counts a chat answered now (routing_accept.lua): its wait, from its
        arrival in the queue, and whether that was within the service level."""
        return DayCount(_today(), self.sl, MAX_WAIT_SAMPLES, DAY_TTL)

    async def ended(self, state: str, by: str) -> None:
        if state not in ("queued", "offered") or by not in ABANDONING:
            return
        try:
            await self.router.count_abandoned(_today(), ttl=DAY_TTL)
        except RedisError:
            shared.REDIS_ERRORS.inc()
            log.warning("today's figures: Redis unavailable; one abandon not counted")

    async def today(self) -> dict[str, float | int | None]:
        answered, abandoned, within, waits = await self.router.day_figures(_today())
        return {"answered": answered, "abandoned": abandoned,
                "median": statistics.median(waits) if waits else None,
                "level": within / answered if answered else None}


class Supervision:
    """The §9 handlers, and the pushes the sweeper-lease holder sends."""

    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        self.day = gw.chats.day
        self._cached: tuple[float, Overview, dict[str, float | int | None]] | None = None
        self._lock = asyncio.Lock()
        for name, path, handler in (
                ("overview", "iq@type=get/idchat_overview", self.on_overview),
                ("watch", "iq@type=set/idchat_watch", self.on_watch),
                ("unwatch", "iq@type=set/idchat_unwatch", self.on_unwatch)):
            gw.admission.iq(name, path, handler)  # the in-flight caps, as every IQ handler

    async def require_supervisor(self, jid: JID) -> None:
        """routing.supervisors, or (oidc) the supervisor role of the current credential."""
        if not await self.gw.chats.grants.is_supervisor(jid):
            raise Forbidden("only supervisors may see the overview")

    @replies_errors
    async def on_overview(self, iq: Iq) -> None:
        await self.require_supervisor(iq["from"])
        reply = iq.reply(clear=True)
        await self.fill(reply["idchat_overview"])
        reply.send()

    @replies_errors
    async def on_watch(self, iq: Iq) -> None:
        await self.require_supervisor(iq["from"])
        router, now = self.gw.router, _now_ms()
        already, count = await router.watching(iq["from"].full, now)
        if not already and count >= MAX_WATCHERS:
            raise Unavailable(f"at most {MAX_WATCHERS} supervisors' resources are kept up to date")
        await router.watch(iq["from"].full, now + WATCH_SECONDS * 1000, WATCH_SECONDS + 60)
        reply = iq.reply(clear=True)
        reply["idchat_watch"]["seconds"] = str(WATCH_SECONDS)
        reply.send()

    @replies_errors
    async def on_unwatch(self, iq: Iq) -> None:
        await self.require_supervisor(iq["from"])
        await self.gw.router.unwatch(iq["from"].full)
        iq.reply(clear=True).send()

    async def push(self) -> None:
        """Send the overview to every supervisor watching (run by the sweeper-lease holder)."""
        watchers = await self.gw.router.watchers(MAX_WATCHERS)
        if not watchers:
            return
        for full in watchers:
            jid = JID(full)
            if not await self.gw.chats.grants.is_supervisor(jid):
                await self.gw.router.unwatch(full)  # no longer a supervisor (settings, credential)
                continue
            msg = self.gw.make_message(mto=jid, mfrom=self.gw.boundjid.bare, mtype="headline")
            msg["no_store"]  # XEP-0334: never into archives or offline storage
            await self.fill(msg["idchat_overview"])
            msg.send()

    async def fill(self, el: object) -> None:
        view, today = await self._read()
        lang = self.gw.settings.ui.default_language
        catalogue = self.gw.settings.topics.catalogue()
        el["at"] = datetime.fromtimestamp(view.taken_ms / 1000, UTC).strftime(  # type: ignore[index]
            "%Y-%m-%dT%H:%M:%SZ")
        el["service-level-seconds"] = str(self.gw.settings.routing.service_level_seconds)  # type: ignore[index]
        for q in view.queues:
            item = _append(el, stanza.QueueRow())
            item["purpose"], item["label"] = q.purpose, catalogue.label(q.purpose, lang)
            item["waiting"], item["longest"] = str(q.waiting), str(int(q.oldest_wait))
            if q.expected_wait is not None:
                item["expected"] = str(int(q.expected_wait))
        for a in view.agents:
            item = _append(el, stanza.MemberRow())
            item["jid"], item["nick"] = a.jid, a.nick
            item["available"] = "true" if a.available else "false"
            item["chats"], item["offers"], item["capacity"] = str(a.open_chats), str(a.offers), str(a.capacity)
            if a.last_chat_ms:
                item["idle"] = str(max(0, (view.taken_ms - a.last_chat_ms) // 1000))
        t = el["today"]  # type: ignore[index]
        t["answered"], t["abandoned"] = str(today["answered"]), str(today["abandoned"])
        if today["median"] is not None:
            t["median-wait"] = str(int(today["median"]))
        if today["level"] is not None:
            t["service-level"] = f"{today['level']:.2f}"

    async def _read(self) -> tuple[Overview, dict[str, float | int | None]]:
        """At most one Redis read a second, however many ask."""
        async with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= 1.0:
                view = await overview.read(self.gw.router)
                self._cached = (now, view, await self.day.today())
            return self._cached[1], self._cached[2]


def _append(parent: object, item: Any) -> Any:
    parent.append(item)  # type: ignore[attr-defined]
    return item


def _now_ms() -> int:
    return int(time.time() * 1000)
