"""The thin XEP-0114 component: connection, reconnection, liveness, timers, event intake.

Several instances may serve one component domain. On ejabberd all are connected and
the server spreads stanzas among them at random — replies to our own requests too —
so each instance stamps its IQ ids with its name and forwards replies meant for
another instance through Redis. Prosody takes one connection per domain: there the
instances hold a Redis lease and only its holder connects; the others stand by
(``component_conflict_resolve = "kick_old"`` lets a successor in at once).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from xml.etree import ElementTree as ET

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from slixmpp import ComponentXMPP, Iq, Presence
from slixmpp.plugins.xep_0172 import UserNick
from slixmpp.xmlstream import register_stanza_plugin
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

from xmpp_plugin.errors import IdChatError
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import SessionStore

from .chats import Chats
from .feedback import Feedback
from .handlers.agent import AgentHandlers
from .handlers.claim import ClaimHandlers
from .handlers.end import EndHandlers
from .handlers.room import RoomHandlers
from .notifier import Notifier
from .protocol import stanza
from .rooms import Rooms
from .routing import Router

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
SWEEP_SECONDS = 1.0
BACKOFF_MAX = 30.0
EVENTS_GROUP = "component"


class Gateway(ComponentXMPP):
    def __init__(self, settings: Settings, client: aioredis.Redis) -> None:
        x = settings.xmpp
        super().__init__(x.component_domain, x.component_secret, x.component_host,
                         x.component_port, plugin_config={"xep_0045": {"multi_from": True}},
                         fix_error_ns=True)
        for plugin in ("xep_0004", "xep_0030", "xep_0045", "xep_0199"):
            self.register_plugin(plugin)
        # Only the nickname element of XEP-0172: the plugin would pull in caps and PEP,
        # which work on every presence the component sees.
        register_stanza_plugin(Presence, UserNick)
        stanza.register()
        self.settings = settings
        self.instance = secrets.token_hex(6)
        self.store = SessionStore.from_settings(client, settings)
        self.router = Router(client, self.store.keys,
                             offer_timeout=settings.routing.offer_timeout_seconds,
                             chat_ttl=settings.store.session_ttl_seconds)
        self.notifier = Notifier(self, settings)
        self.feedback = Feedback()
        self.chats = Chats(settings, self.store, self.router, Rooms(self, x.muc_domain),
                           self.notifier, self.feedback)
        ClaimHandlers(self)
        EndHandlers(self)
        self.agents = AgentHandlers(self)
        self.room_events = RoomHandlers(self)
        self.add_event_handler("presence", self.on_presence)
        for kind in ("result", "error"):
            self.register_handler(Callback(f"idchat forward iq {kind}",
                                           StanzaPath(f"iq@type={kind}"), self._forward_reply))
        self.add_event_handler("session_start", self.on_connected)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_disconnected)
        self.online = asyncio.Event()
        self.exclusive = x.server == "prosody"
        self.lease_seconds = x.lease_seconds
        self.stopping = False
        self._ever_connected = False
        self._backoff = 1.0
        self._lease_until = 0.0  # monotonic: the connection lease is ours until then
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------

    def new_id(self) -> str:
        """IQ ids carry this instance's name, so a stray reply finds its way back."""
        return f"{self.instance}.{uuid.uuid4().hex}"

    def start(self) -> None:
        if not self.exclusive:
            self.connect()
        for coro in (self._heartbeat(), self._timers(), self._events(), self._forwarded()):
            self._tasks.append(asyncio.ensure_future(coro))

    async def stop(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5)
            for task in stuck:
                log.warning("background task %s did not stop", task.get_coro().__qualname__)
        try:
            await self.store.redis.delete(self.store.keys.component_alive())
        except RedisError:
            pass
        # asyncio.wait, not wait_for: a disconnect that ignores cancellation cannot hang us.
        closing = asyncio.ensure_future(self.disconnect(wait=2))
        done, _ = await asyncio.wait({closing}, timeout=5)
        if not done:
            log.warning("the XMPP server did not close the stream; dropping it")
            closing.cancel()
        self.abort()
        await self.feedback.close()

    async def on_connected(self, _event: object) -> None:
        self._backoff = 1.0
        self.online.set()
        log.info("connected to the XMPP server as %s", self.boundjid.bare)
        await self._mark_alive()
        if self._ever_connected:
            await self._guarded(self.chats.after_reconnect())
        self._ever_connected = True
        await self._guarded(self.chats.sweep_rooms())

    async def on_disconnected(self, reason: object) -> None:
        """slixmpp does not reconnect an established stream by itself: we do, forever."""
        self.online.clear()
        if self.stopping:
            return
        try:
            await self.store.redis.delete(self.store.keys.component_alive())
        except RedisError:
            pass
        delay, self._backoff = self._backoff, min(self._backoff * 2, BACKOFF_MAX)
        log.warning("XMPP connection lost; reconnecting in %.0f s", delay)
        await asyncio.sleep(delay)
        if not self.stopping and not self.online.is_set() and not self.exclusive:
            self.connect()  # exclusive mode: the heartbeat reconnects while we hold the lease

    # -- presence routing ------------------------------------------------------------

    async def on_presence(self, pres: Presence) -> None:
        domain = pres["from"].domain
        if domain == self.settings.xmpp.muc_domain:
            await self._guarded(self.room_events.on_presence(pres))
        elif pres["to"].bare == self.boundjid.bare and not pres["to"].resource:
            await self._guarded(self.agents.on_presence(pres))

    # -- background work ------------------------------------------------------------

    async def _mark_alive(self) -> None:
        try:
            await self.store.mark_component_alive(self.instance, HEARTBEAT_SECONDS * 3)
        except IdChatError:
            log.warning("cannot report liveness: Redis unavailable")

    async def _heartbeat(self) -> None:
        interval = HEARTBEAT_SECONDS if not self.exclusive else max(0.5, self.lease_seconds / 4)
        while True:
            if self.exclusive:
                await self._keep_exclusive_connection()
            if self.online.is_set():
                await self._mark_alive()
            await asyncio.sleep(interval)

    async def _keep_exclusive_connection(self) -> None:
        """Prosody: connect while we hold the connection lease, stand by otherwise. While
        Redis does not answer (a failover) the lease stays ours for as long as the last
        renewal lasts: nobody else can have taken it before, so the stream stays up."""
        asked = time.monotonic()
        held = await self._hold_lease("connection", self.lease_seconds)
        if held:
            self._lease_until = asked + self.lease_seconds
        elif held is None and time.monotonic() < self._lease_until:
            return
        connecting = self.transport is not None or self.online.is_set()
        if held and not connecting:
            log.info("holding the connection lease: connecting")
            self.connect()
        elif not held and self.online.is_set():
            log.warning("lost the connection lease to another instance: standing by")
            self.online.clear()
            self.abort()

    async def _timers(self) -> None:
        """Offer timeouts, gone citizens and agents, no-agent notices, room sweeping:
        run by whichever instance holds the sweeper lease."""
        count = 0
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            if not self.online.is_set():
                continue
            await self._guarded(self.chats.check_records())  # every instance: its own rooms
            if not await self._hold_lease("sweeper"):
                continue
            await self._guarded(self.chats.sweep())
            count += 1
            every = max(1, round(self.settings.routing.orphan_check_seconds / SWEEP_SECONDS))
            if count % every == 0:
                await self._guarded(self.chats.sweep_rooms())

    async def _hold_lease(self, name: str, seconds: float = SWEEP_SECONDS * 3) -> bool | None:
        """True while ours, False when another instance holds it, None when Redis did not
        answer."""
        key, ttl_ms = self.store.keys.lease(name), int(seconds * 1000)
        try:
            if await self.store.redis.set(key, self.instance, px=ttl_ms, nx=True):
                return True
            owner = await self.store.redis.get(key)
            if owner is not None and owner.decode() == self.instance:
                await self.store.redis.pexpire(key, ttl_ms)
                return True
        except RedisError:
            log.warning("%s lease: Redis unavailable", name)
            return None
        return False

    async def _events(self) -> None:
        """Attributes that arrive after the agent accepted: pushed at once (protocol §5)."""
        redis, stream = self.store.redis, self.store.keys.events()
        # A blocking read must end well within the client's read timeout (redis.timeout_seconds).
        block_ms = max(100, min(1000, int(self.settings.redis.timeout_seconds * 500)))
        while True:
            try:
                try:
                    await redis.xgroup_create(stream, EVENTS_GROUP, id="$", mkstream=True)
                except ResponseError:
                    pass  # BUSYGROUP: another instance made it
                while True:
                    # A standby (or a disconnected instance) leaves events to the others.
                    await self.online.wait()
                    batches = await redis.xreadgroup(EVENTS_GROUP, self.instance, {stream: ">"},
                                                     count=20, block=block_ms)
                    for _, entries in batches or []:
                        for entry_id, fields in entries:
                            if fields.get(b"type") == b"attributes":
                                await self._guarded(self.chats.attributes_arrived(
                                    fields[b"sid"].decode()))
                            await redis.xack(stream, EVENTS_GROUP, entry_id)
            except RedisError:
                log.warning("event stream: Redis unavailable; retrying")
                await asyncio.sleep(1)

    def _forward_reply(self, iq: Iq) -> None:
        """A reply to another instance's request (ejabberd spreads them): send it there."""
        owner = iq["id"].split(".", 1)[0]
        if owner == self.instance or "." not in iq["id"] or len(owner) != len(self.instance):
            return
        data = ET.tostring(iq.xml, encoding="unicode")
        asyncio.ensure_future(self._publish(self.store.keys.iq_forward(owner), data))

    async def _publish(self, channel: str, data: str) -> None:
        try:
            await self.store.redis.publish(channel, data)
        except RedisError:
            log.warning("could not forward an IQ reply: Redis unavailable")

    async def _forwarded(self) -> None:
        """Replies that reached another instance, handled as if they had come to us."""
        while True:
            try:
                async with self.store.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.store.keys.iq_forward(self.instance))
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._spawn_event(ET.fromstring(message["data"]))
            except RedisError:
                log.warning("IQ forwarding: Redis unavailable; retrying")
                await asyncio.sleep(1)

    async def _guarded(self, coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except IdChatError as exc:
            log.warning("%s: %s", type(exc).__name__, exc.detail)
        except RedisError:
            log.warning("Redis unavailable")
        except Exception as exc:  # noqa: BLE001 - keep the component alive
            log.error("unhandled %s in background work", type(exc).__name__)
