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

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from slixmpp import JID, Iq

from xmpp_plugin import metrics as shared
from xmpp_plugin.errors import Forbidden, Unavailable
from xmpp_plugin.store import Keys

from . import overview
from .overview import Overview
from .protocol import stanza
from .xmpp_errors import replies_errors

if TYPE_CHECKING:
    from .gateway import Gateway
    from .routing import Chat

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

    def __init__(self, redis: aioredis.Redis, keys: Keys, service_level_seconds: int) -> None:
        self.redis, self.keys, self.sl = redis, keys, service_level_seconds

    async def answered(self, chat: "Chat") -> None:
        wait = max(0, (chat.assigned_ms - chat.enqueued_ms) // 1000) if chat.assigned_ms else 0
        day = _today()
        stats, waits = self.keys.day_stats(day), self.keys.day_waits(day)
        try:  # counts: no MULTI/EXEC needed around them
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(stats, "answered", 1)
                if wait <= self.sl:
                    pipe.hincrby(stats, "within", 1)
                pipe.rpush(waits, wait)
                pipe.ltrim(waits, -MAX_WAIT_SAMPLES, -1)
                pipe.expire(stats, DAY_TTL)
                pipe.expire(waits, DAY_TTL)
                await pipe.execute()
        except RedisError:
            shared.REDIS_ERRORS.inc()
            log.warning("today's figures: Redis unavailable; one answer not counted")

    async def ended(self, state: str, by: str) -> None:
        if state not in ("queued", "offered") or by not in ABANDONING:
            return
        stats = self.keys.day_stats(_today())
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(stats, "abandoned", 1)
                pipe.expire(stats, DAY_TTL)
                await pipe.execute()
        except RedisError:
            shared.REDIS_ERRORS.inc()
            log.warning("today's figures: Redis unavailable; one abandon not counted")

    async def today(self) -> dict[str, float | int | None]:
        day = _today()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self.keys.day_stats(day), ["answered", "abandoned", "within"])
            pipe.lrange(self.keys.day_waits(day), 0, -1)
            (answered, abandoned, within), waits = await pipe.execute()
        answered_n = int(answered or 0)
        return {"answered": answered_n, "abandoned": int(abandoned or 0),
                "median": statistics.median(int(w) for w in waits) if waits else None,
                "level": int(within or 0) / answered_n if answered_n else None}


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
        redis, key, now = self.gw.store.redis, self.gw.store.keys.watchers(), _now_ms()
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zscore(key, iq["from"].full)
            pipe.zcard(key)
            _, already, count = await pipe.execute()
        if already is None and count >= MAX_WATCHERS:
            raise Unavailable(f"at most {MAX_WATCHERS} supervisors' resources are kept up to date")
        await redis.zadd(key, {iq["from"].full: now + WATCH_SECONDS * 1000})
        await redis.expire(key, WATCH_SECONDS + 60)
        reply = iq.reply(clear=True)
        reply["idchat_watch"]["seconds"] = str(WATCH_SECONDS)
        reply.send()

    @replies_errors
    async def on_unwatch(self, iq: Iq) -> None:
        await self.require_supervisor(iq["from"])
        await self.gw.store.redis.zrem(self.gw.store.keys.watchers(), iq["from"].full)
        iq.reply(clear=True).send()

    async def push(self) -> None:
        """Send the overview to every supervisor watching (run by the sweeper-lease holder)."""
        redis, key = self.gw.store.redis, self.gw.store.keys.watchers()
        watchers = await redis.zrangebyscore(key, _now_ms(), "+inf", start=0, num=MAX_WATCHERS)
        if not watchers:
            return
        for raw in watchers:
            jid = JID(raw.decode())
            if not await self.gw.chats.grants.is_supervisor(jid):
                await redis.zrem(key, raw)  # no longer a supervisor (settings, credential)
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
                view = await overview.read(self.gw.store.redis, self.gw.store.keys)
                self._cached = (now, view, await self.day.today())
            return self._cached[1], self._cached[2]


def _append(parent: object, item: Any) -> Any:
    parent.append(item)  # type: ignore[attr-defined]
    return item


def _now_ms() -> int:
    return int(time.time() * 1000)
