"""Prometheus metrics of the component, on a small listener of its own (``metrics.*``).

Event counters and histograms are bumped by one-line calls where the events happen.
The shared gauges (queues, agents, open chats, capacity) describe Redis, which every
instance sees alike: they are read at scrape time and exported only by the instance
that holds the sweeper lease, so that summing over several instances never counts a
queue twice (docs/operations.md, "Metrics"). Labels are fixed sets; a purpose is a
label only while the set of purposes stays small (:class:`PurposeLabels`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from xmpp_plugin import metrics as shared

from . import overview
from .overview import Overview

if TYPE_CHECKING:
    from .gateway import Gateway
    from .routing import Chat

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
WAIT_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)
CLAIMED = Counter("idchat_chats_claimed", "Claims answered (a chat opened or rejoined)",
                  registry=REGISTRY)
CLOSED = Counter("idchat_claims_closed", "Claims answered 'closed': outside the topic's "
                 "opening hours, no chat opened", registry=REGISTRY)
OFFERED = Counter("idchat_chats_offered", "Offers made to agents", registry=REGISTRY)
ACCEPTED = Counter("idchat_chats_accepted", "Offers accepted", registry=REGISTRY)
DECLINED = Counter("idchat_offers_declined", "Offers declined by the agent", registry=REGISTRY)
TIMED_OUT = Counter("idchat_offers_timed_out", "Offers not answered in time", registry=REGISTRY)
ENDED = Counter("idchat_chats_ended", "Chats ended, by who ended them and the state they "
                "ended in (queued or offered: abandoned while waiting)", ["by", "state"],
                registry=REGISTRY)
WAIT = Histogram("idchat_wait_seconds", "Wait from arrival in the queue until an agent "
                 "accepted", buckets=WAIT_BUCKETS, registry=REGISTRY)
HANDLING = Histogram("idchat_handling_seconds", "From accept to the end of the chat",
                     buckets=WAIT_BUCKETS, registry=REGISTRY)
SETUP = Histogram("idchat_chat_setup_seconds", "A claim, from the request to its answer "
                  "(room made, chat queued)", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                       2.5, 5), registry=REGISTRY)
RECONNECTS = Counter("idchat_component_reconnects", "XMPP streams re-established after a "
                     "loss", registry=REGISTRY)
ENDERS = ("citizen", "agent", "timeout", "system")
VERDICTS = ("admitted", "refused", "dropped")
STATES = ("queued", "offered", "assigned")
SNAPSHOT_SECONDS = 1.0  # scrapes within this share one Redis read


# -- events -------------------------------------------------------------------------

def claimed() -> None:
    CLAIMED.inc()


def closed() -> None:
    CLOSED.inc()


def offered(count: int) -> None:
    OFFERED.inc(count)


def accepted(chat: "Chat") -> None:
    ACCEPTED.inc()
    if chat.assigned_ms and chat.enqueued_ms:
        WAIT.observe(max(0.0, (chat.assigned_ms - chat.enqueued_ms) / 1000))


def declined() -> None:
    DECLINED.inc()


def timed_out(count: int) -> None:
    TIMED_OUT.inc(count)


def ended(chat: "Chat", state: str, by: str) -> None:
    ENDED.labels(by if by in ENDERS else "other", state if state in STATES else "other").inc()
    if state == "assigned" and chat.assigned_ms:
        HANDLING.observe(max(0.0, time.time() - chat.assigned_ms / 1000))


class PurposeLabels:
    """Purpose tags as label values, bounded: the known purposes and those agents are
    configured for always; up to ``limit`` others as first seen, when they look like a
    tag (lower case, words of at most 16 characters: never like an id); the rest ``other``."""

    TAG = re.compile(r"[a-z][a-z0-9]{0,15}(?:[_.-][a-z0-9]{1,16}){0,5}")

    def __init__(self, configured: Iterable[str] = (), limit: int = 20) -> None:
        self.fixed = set(configured)
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, purpose: str) -> str:
        if purpose in self.fixed or purpose in self.seen:
            return purpose
        if len(self.seen) < self.limit and self.TAG.fullmatch(purpose):
            self.seen.add(purpose)
            return purpose
        return "other"


# -- scrape time --------------------------------------------------------------------

class _Scrape(Collector):
    """This instance's own state, and the shared gauges when it holds the sweeper lease."""

    def __init__(self, instance: dict[str, float], view: Overview | None,
                 label: PurposeLabels) -> None:
        self.instance, self.view, self.label = instance, view, label

    def collect(self) -> Iterable[Metric]:
        for name, (text, value) in {
            "idchat_component_connected": ("1 while this instance has its XMPP stream",
                                           self.instance["connected"]),
            "idchat_redis_up": ("1 when Redis answered this scrape's PING", self.instance["redis_up"]),
            "idchat_redis_ping_seconds": ("Round trip of this scrape's PING to Redis",
                                          self.instance["ping"]),
        }.items():
            yield GaugeMetricFamily(name, text, value=value)
        # The per-sender budget (component/budget.py) keeps plain counters: read here,
        # so the flood path pays nothing for them.
        stanzas = CounterMetricFamily("idchat_component_stanzas", "Stanzas at this instance's "
                                      "per-sender budget: admitted (a handler ran), refused "
                                      "(answered resource-constraint), dropped (no answer)",
                                      labels=["verdict"])
        for verdict in VERDICTS:
            stanzas.add_metric([verdict], self.instance[verdict])
        yield stanzas
        yield GaugeMetricFamily("idchat_component_handlers_running", "Stanza handlers this "
                                "instance runs now (at most budget.in_flight)",
                                value=self.instance["handlers"])
        leases = GaugeMetricFamily("idchat_component_lease_held", "1 when this instance holds "
                                   "the lease (sweeper: timers and the shared gauges; "
                                   "connection: Prosody's one component stream)", labels=["lease"])
        for lease in ("sweeper", "connection"):
            leases.add_metric([lease], self.instance[lease])
        yield leases
        if self.view is not None:
            yield from self._shared(self.view)

    def _shared(self, view: Overview) -> Iterable[Metric]:
        length = GaugeMetricFamily("idchat_queue_length", "Citizens waiting (or being "
                                   "offered), per purpose", labels=["purpose"])
        oldest = GaugeMetricFamily("idchat_queue_oldest_wait_seconds", "How long the first "
                                   "in line has waited, per purpose", labels=["purpose"])
        by_label: dict[str, tuple[int, float]] = {}
        for q in view.queues:
            n, w = by_label.get(self.label(q.purpose), (0, 0.0))
            by_label[self.label(q.purpose)] = (n + q.waiting, max(w, q.oldest_wait))
        for label, (n, w) in sorted(by_label.items()):
            length.add_metric([label], n)
            oldest.add_metric([label], w)
        yield length
        yield oldest
        on_duty = view.available
        for name, text, value in (
            ("idchat_agents_available", "Agents on duty (taking new chats)", len(on_duty)),
            ("idchat_agents_busy", "Agents with at least one open chat",
             sum(1 for a in view.agents if a.open_chats)),
            ("idchat_chats_open", "Live chats: waiting, offered or with an agent", view.open_chats),
            ("idchat_chats_assigned", "Chats with an agent", sum(a.open_chats for a in view.agents)),
            ("idchat_capacity_chats", "Chats the agents on duty can hold together",
             sum(a.capacity for a in on_duty)),
            ("idchat_capacity_free", "Chats the agents on duty can still take",
             sum(max(0, a.capacity - a.open_chats - a.offers) for a in on_duty)),
        ):
            yield GaugeMetricFamily(name, text, value=value)


class Exporter:
    """The component's /metrics: counters, this instance, and (lease holder) the shared view."""

    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        self.label = PurposeLabels({*gw.settings.topics.catalogue().topics,
                                   *_configured_purposes(gw.settings.routing.agent_purposes)})
        self._cached: tuple[float, bytes] | None = None
        self._lock = asyncio.Lock()

    async def exposition(self) -> bytes:
        async with self._lock:  # concurrent scrapes wait for one read, never add to it
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= SNAPSHOT_SECONDS:
                self._cached = (now, await self._render())
            return self._cached[1]

    async def _render(self) -> bytes:
        gw = self.gw
        b = gw.budget
        state = {"connected": float(gw.online.is_set()), "redis_up": 0.0, "ping": 0.0,
                 "sweeper": 0.0, "connection": 0.0, "admitted": float(b.admitted),
                 "refused": float(b.refused), "dropped": float(b.dropped),
                 "handlers": float(b.in_flight)}
        view = None
        try:
            start = time.perf_counter()
            await gw.router.ping()
            state["ping"], state["redis_up"] = time.perf_counter() - start, 1.0
            owners = await gw.router.lease_holders("sweeper", "connection")
            mine = gw.instance.encode()
            state["sweeper"], state["connection"] = (float(o == mine) for o in owners)
            if not gw.exclusive:
                state["connection"] = state["connected"]
            if state["sweeper"]:
                view = await overview.read(gw.router)
        except RedisError:
            shared.REDIS_ERRORS.inc()
        scrape = CollectorRegistry()
        scrape.register(_Scrape(state, view, self.label))
        return shared.exposition(shared.SHARED, REGISTRY, scrape)

    async def get_metrics(self, _request: web.Request) -> web.Response:
        return shared.response(await self.exposition())


async def serve(gw: "Gateway") -> None:
    """Run the listener until cancelled (a background task of the gateway)."""
    m = gw.settings.metrics
    app = web.Application()
    app.router.add_get("/metrics", Exporter(gw).get_metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, m.component_host, m.component_port).start()
        except OSError as exc:
            log.error("cannot listen for metrics on %s:%d: %s", m.component_host,
                      m.component_port, exc.strerror)
            return
        log.info("metrics on http://%s:%d/metrics", m.component_host, m.component_port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _configured_purposes(entries: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for entry in entries:
        out.update(p.strip() for p in entry.partition("=")[2].split("|") if p.strip())
    return out


def _init() -> None:
    for by in ENDERS:
        for state in STATES:
            ENDED.labels(by, state)


_init()
