"""The thin XEP-0114 component: connection, reconnection, liveness, timers, event intake.

Several instances may serve one component domain. On ejabberd all are connected and
the server spreads stanzas among them at random — replies to our own requests too —
so each instance stamps its IQ ids with its name and forwards replies meant for
another instance through Redis. Prosody takes one connection per domain: there the
instances hold a Redis lease and only its holder connects; the others stand by
(``component_conflict_resolve = "kick_old"`` lets a successor in at once). The leases
and the liveness mark use a Redis client of their own (component/lease.py); every
stanza passes the per-sender budget before a handler runs (component/admission.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from xml.etree import ElementTree as ET

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from slixmpp import ComponentXMPP, Iq, Presence
from slixmpp.plugins.xep_0172 import UserNick
from slixmpp.xmlstream import register_stanza_plugin
from slixmpp.xmlstream.handler import Callback

from xmpp_plugin import events
from xmpp_plugin import metrics as shared_metrics
from xmpp_plugin.errors import IdChatError, MalformedEvent
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import SessionStore

from . import metrics
from .admission import Admission, Shape
from .budget import Budget
from .chats import Chats
from .core import Core
from .feedback import Feedback
from .handlers.agent import AgentHandlers
from .handlers.auth import AuthHandlers
from .handlers.claim import ClaimHandlers
from .handlers.end import EndHandlers
from .handlers.replies import ReplyHandlers
from .handlers.room import RoomHandlers
from .handlers.transfer import TransferHandlers
from .lease import Leases, LeaseState
from .notifier import Notifier
from .protocol import stanza
from .rooms import Rooms
from .routing import Router
from .stateless import MUC_PLUGIN, forget_per_jid_state
from .supervision import Supervision

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
SWEEP_SECONDS = 1.0
BACKOFF_MAX = 30.0


class Gateway(ComponentXMPP):
    def __init__(self, settings: Settings, client: aioredis.Redis) -> None:
        x = settings.xmpp
        super().__init__(x.component_domain, x.component_secret, x.component_host,  # type: ignore[no-untyped-call]
                         x.component_port, plugin_config={MUC_PLUGIN: {"multi_from": True}},
                         fix_error_ns=True)
        # No per-JID memory: a slim MUC plugin and a roster that forgets (stateless.py).
        forget_per_jid_state(self)
        for plugin in ("xep_0004", "xep_0030", MUC_PLUGIN, "xep_0199"):
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
        self.core = Core.from_settings(settings.auth)
        self.chats = Chats(settings, self.store, self.router, Rooms(self, x.muc_domain),
                           self.notifier, self.feedback, self.core)
        self.leases = Leases.from_settings(settings, self.store.keys, self.instance)
        self.budget = Budget.from_settings(settings.budget)
        self.admission = Admission(self, settings, self.budget)
        ClaimHandlers(self)
        ReplyHandlers(self)
        EndHandlers(self)
        TransferHandlers(self)
        AuthHandlers(self)
        self.agents = AgentHandlers(self)
        self.room_events = RoomHandlers(self)
        self.supervision = Supervision(self)
        # slixmpp's own message and presence handlers (roster, 'message' events, data
        # forms in messages) do nothing the component needs and cost every stanza a
        # match and a run: ours take presence and room messages straight.
        for name in ("IM", "IMError", "Presence", "Data Form"):
            self.remove_handler(name)
        self.register_handler(Callback("idchat presence", Shape("presence"), self.on_presence))  # type: ignore[arg-type]
        self.register_handler(Callback("idchat forward iq", Shape("iq", ("result", "error")),
                                       self._forward_reply))  # type: ignore[arg-type]
        self.add_event_handler("session_start", self.on_connected)
        self.add_event_handler("disconnected", self.on_disconnected)
        self.add_event_handler("connection_failed", self.on_disconnected)
        self.online = asyncio.Event()
        self.exclusive = x.server == "prosody"
        self.lease_seconds = x.lease_seconds
        self.stopping = False
        self._ever_connected = False
        self._backoff = 1.0
        self._tasks: list[asyncio.Task[None]] = []
        self._lease_expiry: asyncio.TimerHandle | None = None

    # -- lifecycle -----------------------------------------------------------------

    def new_id(self) -> str:
        """IQ ids carry this instance's name, so a stray reply finds its way back."""
        return f"{self.instance}.{uuid.uuid4().hex}"

    def start(self) -> None:
        if not self.exclusive:
            self.connect()
        for coro in (self._heartbeat(), self._timers(), self._events(), self._forwarded()):
            self._tasks.append(asyncio.ensure_future(coro))
        if self.settings.metrics.component_port:
            self._tasks.append(asyncio.ensure_future(metrics.serve(self)))

    async def stop(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        if self._lease_expiry is not None:
            self._lease_expiry.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=5)
            for task in stuck:
                log.warning("background task %s did not stop", task.get_coro().__qualname__)  # type: ignore[union-attr]
        await self.admission.close()
        await self.leases.mark_gone()
        # asyncio.wait, not wait_for: a disconnect that ignores cancellation cannot hang us.
        closing = asyncio.ensure_future(self.disconnect(wait=2))
        done, _ = await asyncio.wait({closing}, timeout=5)
        if not done:
            log.warning("the XMPP server did not close the stream; dropping it")
            closing.cancel()
        self.abort()
        await self.feedback.close()
        if self.core is not None:
            await self.core.close()
        await self.leases.close()

    async def on_connected(self, _event: object) -> None:
        self._backoff = 1.0
        self.online.set()
        log.info("connected to the XMPP server as %s", self.boundjid.bare)
        await self._mark_alive()
        if self._ever_connected:
            metrics.RECONNECTS.inc()
            await self._guarded(self.chats.after_reconnect())
        self._ever_connected = True
        await self._guarded(self.chats.sweep_rooms())

    async def on_disconnected(self, reason: object) -> None:
        """slixmpp does not reconnect an established stream by itself: we do, forever."""
        self.online.clear()
        if self.stopping:
            return
        await self.leases.mark_gone()
        delay, self._backoff = self._backoff, min(self._backoff * 2, BACKOFF_MAX)
        log.warning("XMPP connection lost; reconnecting in %.0f s", delay)
        await asyncio.sleep(delay)
        if not self.stopping and not self.online.is_set() and not self.exclusive:
            self.connect()  # exclusive mode: the heartbeat reconnects while we hold the lease

    def _spawn_event(self, xml: ET.Element) -> None:
        """slixmpp hands every stanza parsed from the stream to this method: the budget
        sees it first (component/admission.py)."""
        if self.admission.screen(xml):
            super()._spawn_event(xml)

    # -- presence routing ------------------------------------------------------------

    def on_presence(self, pres: Presence) -> None:
        """Synchronous: the handlers hand their Redis work to the admission step."""
        domain = pres["from"].domain
        if domain == self.settings.xmpp.muc_domain:
            self.room_events.on_presence(pres)
        elif pres["to"].bare == self.boundjid.bare and not pres["to"].resource:
            self.agents.on_presence(pres)

    # -- background work ------------------------------------------------------------

    async def _mark_alive(self) -> None:
        if not await self.leases.mark_alive(HEARTBEAT_SECONDS * 3):
            log.warning("cannot report liveness: Redis unavailable")

    async def _heartbeat(self) -> None:
        """Lease and liveness on their own Redis client (component/lease.py): a flood that
        keeps the shared pool busy cannot make them late."""
        interval = HEARTBEAT_SECONDS if not self.exclusive else max(0.5, self.lease_seconds / 4)
        while True:
            if self.exclusive:
                await self._keep_exclusive_connection()
            if self.online.is_set():
                await self._mark_alive()
            self.admission.report()
            await asyncio.sleep(interval)

    async def _keep_exclusive_connection(self) -> None:
        """Prosody: connect while we hold the connection lease, stand by when another
        instance holds it. When Redis cannot say, keep the stream until our last renewal
        runs out (a timer), then stand by: only then may another instance have it."""
        state = await self.leases.renew("connection", self.lease_seconds)
        connecting = self.transport is not None or self.online.is_set()
        if state is LeaseState.HELD:
            self._arm_lease_expiry()
            if not connecting:
                log.info("holding the connection lease: connecting")
                self.connect()
        elif state is LeaseState.LOST and connecting:
            log.warning("lost the connection lease to another instance: standing by")
            self._stand_by()
        elif state is LeaseState.UNKNOWN and connecting:
            log.warning("connection lease: Redis unavailable; keeping the stream for %.1f s "
                        "at most", self.leases.remaining("connection"))

    def _arm_lease_expiry(self) -> None:
        if self._lease_expiry is not None:
            self._lease_expiry.cancel()
        self._lease_expiry = asyncio.get_running_loop().call_later(
            self.leases.remaining("connection"), self._lease_expired)

    def _lease_expired(self) -> None:
        self._lease_expiry = None
        if self.stopping or self.leases.remaining("connection") > 0:
            return
        if self.transport is not None or self.online.is_set():
            log.warning("the connection lease ran out without a renewal: standing by")
            self._stand_by()

    def _stand_by(self) -> None:
        if self._lease_expiry is not None:
            self._lease_expiry.cancel()
            self._lease_expiry = None
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
            if count % max(1, round(self.settings.routing.supervisor_push_seconds / SWEEP_SECONDS)) == 0:
                await self._guarded(self.supervision.push())

    async def _hold_lease(self, name: str, seconds: float = SWEEP_SECONDS * 3) -> bool:
        state = await self.leases.renew(name, seconds)
        if state is LeaseState.UNKNOWN:
            log.warning("%s lease: Redis unavailable", name)
        return state is LeaseState.HELD

    async def _events(self) -> None:
        """Attributes that arrive after the agent accepted: pushed at once (protocol §5)."""
        redis, stream = self.store.redis, self.store.keys.events()
        # A blocking read must end well within the client's read timeout (redis.timeout_seconds).
        block_ms = max(100, min(1000, int(self.settings.redis.timeout_seconds * 500)))
        while True:
            try:
                try:
                    await redis.xgroup_create(stream, events.GROUP, id="$", mkstream=True)
                except ResponseError:
                    pass  # BUSYGROUP: another instance made it
                while True:
                    # A standby (or a disconnected instance) leaves events to the others.
                    await self.online.wait()
                    batches = await redis.xreadgroup(events.GROUP, self.instance, {stream: ">"},
                                                     count=20, block=block_ms)
                    for _, entries in batches or []:
                        for entry_id, fields in entries:
                            await self._on_event(entry_id, fields)
                            # Handled (or refused): acknowledged and deleted (it names a session).
                            await redis.xack(stream, events.GROUP, entry_id)
                            await redis.xdel(stream, entry_id)
            except RedisError:
                log.warning("event stream: Redis unavailable; retrying")
                await asyncio.sleep(1)

    async def _on_event(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            event = events.decode(fields)
        except MalformedEvent as exc:
            log.warning("event %s skipped: %s", entry_id.decode(), exc.detail)
            return
        await self._guarded(self.chats.attributes_arrived(event.sid, event.auth, event.attr))

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
                            self._spawn_event(ET.fromstring(message["data"]))  # noqa: S314 - our instances wrote it
            except RedisError:
                log.warning("IQ forwarding: Redis unavailable; retrying")
                await asyncio.sleep(1)

    async def _guarded(self, coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except IdChatError as exc:
            log.warning("%s: %s", type(exc).__name__, exc.detail)
        except RedisError:
            shared_metrics.REDIS_ERRORS.inc()
            log.warning("Redis unavailable")
        except Exception as exc:  # noqa: BLE001 - keep the component alive
            log.error("unhandled %s in background work", type(exc).__name__)
