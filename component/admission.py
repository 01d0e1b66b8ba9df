"""Where stanzas enter the component: every one passes the per-sender budget
(component/budget.py) before a handler runs, and no handler runs unbounded.

Three steps, all synchronous in slixmpp's stream processing, so nothing waits in a queue:

1. :meth:`Admission.screen` charges every stanza from a client (anything with a local
   part that is not one of our rooms) to its sender's bucket as soon as it is parsed,
   before slixmpp's own handlers (roster, disco, ping) or ours see it: over budget it
   is refused or dropped there;
2. :meth:`Admission.iq` registers an IQ handler behind the in-flight caps: a request
   starts a task only while its sender and the component have room, else it is
   answered ``<resource-constraint/>`` (RFC 6120 §8.3.3.18, type wait);
3. :meth:`Admission.message` does both for room messages (never answered), and
   :meth:`Admission.latest` runs presence, which is state: one task per key at a time,
   and only the newest presence waits behind it (older ones are superseded).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable
from xml.etree import ElementTree as ET

from redis.exceptions import RedisError
from slixmpp import Iq
from slixmpp.xmlstream import StanzaBase
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher.base import MatcherBase

from xmpp_plugin.errors import IdChatError, TooManyRequests
from xmpp_plugin.settings import Settings

from .budget import Budget, Verdict
from .xmpp_errors import reply_error

log = logging.getLogger(__name__)

REPORT_SECONDS = 5.0
CHATSTATES = "{http://jabber.org/protocol/chatstates}"  # XEP-0085
BUSY = TooManyRequests("too many requests; try again later")

Handler = Callable[..., Awaitable[None]]


class Requests(MatcherBase):
    """The IQ requests ID Chat answers, found with one dictionary lookup on the raw
    element: ``(type, payload tag)`` → handler. slixmpp tries every registered handler's
    matcher on every stanza; a ``StanzaPath`` per request kind parsed its path on each of
    them (a tenth of the component's CPU in bench/chat_sessions.py's profile)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.routes: dict[tuple[str, str], Callable[[Iq], None]] = {}

    def add(self, path: str, handler: Callable[[Iq], None]) -> None:
        """``path`` as a StanzaPath would have it: ``iq@type=set/<plugin attrib>``."""
        head, _, attrib = path.partition("/")
        kind = head.partition("@type=")[2]
        plugin = Iq.plugin_attrib_map.get(attrib)
        if kind not in ("get", "set") or plugin is None or "/" in attrib:
            raise ValueError(f"not an IQ request path: {path!r}")
        key = (kind, f"{{{plugin.namespace}}}{plugin.name}")
        if key in self.routes:
            raise ValueError(f"two handlers for {path!r}")
        self.routes[key] = handler

    def route(self, xml: ET.Element) -> Callable[[Iq], None] | None:
        kind = xml.get("type")
        if (kind != "get" and kind != "set") or not xml.tag.endswith("}iq"):
            return None
        for child in xml:  # one payload (RFC 6120 §8.2.3), but look at each
            handler = self.routes.get((kind, child.tag))
            if handler is not None:
                return handler
        return None

    def match(self, xml: StanzaBase) -> bool:
        return self.route(xml.xml) is not None

    def run(self, iq: Iq) -> None:
        handler = self.route(iq.xml)
        if handler is not None:
            handler(iq)


class Shape(MatcherBase):
    """A stanza of one kind (``message``, ``presence``, ``iq``) and, if given, of one of
    ``types``: two comparisons on the raw element, for the handlers every stanza meets."""

    def __init__(self, kind: str, types: tuple[str, ...] | None = None) -> None:
        super().__init__(kind)
        self.suffix = "}" + kind
        self.types = types

    def match(self, xml: StanzaBase) -> bool:
        el = xml.xml
        return el.tag.endswith(self.suffix) and (self.types is None or el.get("type", "") in self.types)


def _chat_state_only(xml: ET.Element) -> bool:
    """A room message that only says someone is typing (XEP-0085 §5.4): no body, a chat
    state. Looked at on the raw element, before slixmpp builds a stanza object for it."""
    if not xml.tag.endswith("}message"):
        return False
    state = False
    for child in xml:
        if child.tag.endswith("}body"):
            return False
        state = state or child.tag.startswith(CHATSTATES)
    return state


class Admission:
    def __init__(self, xmpp: Any, settings: Settings, budget: Budget) -> None:
        self.xmpp = xmpp
        self.budget = budget
        self.muc_domain = settings.xmpp.muc_domain
        self.agent_domain = settings.xmpp.agent_domain
        self.agents = frozenset(settings.routing.agents)
        self.tasks: set[asyncio.Task[None]] = set()
        self.superseded = 0  # presence replaced by a newer one before it ran
        self.chat_states = 0  # typing notifications from our rooms, ignored at the door
        self.closed = False
        self._latest: dict[str, tuple[Handler, StanzaBase] | None] = {}
        self._reported_at = budget.clock()
        self._reported = (0, 0, 0)
        self.requests = Requests()
        xmpp.register_handler(Callback("idchat requests", self.requests, self.requests.run))  # type: ignore[arg-type]

    def kind_of(self, bare: str) -> str:
        """Agents (routing.agents and the agent host) have a larger budget; anyone else
        counts as a guest."""
        if bare.partition("@")[2] == self.agent_domain or bare in self.agents:
            return "agent"
        return "guest"

    # -- 1. the rate, for every stanza from a client --------------------------------

    def screen(self, xml: ET.Element) -> bool:
        """Whether a stanza just parsed from the stream may go on to slixmpp. Called by
        the gateway before slixmpp builds a stanza object, and on raw attributes: a
        dropped stanza then costs about 15 µs with its parsing, half of what a slixmpp
        filter would (bench/flood.py)."""
        bare = (xml.get("from") or "").split("/", 1)[0]
        _, at, domain = bare.partition("@")
        if at and domain == self.muc_domain and _chat_state_only(xml):
            self.chat_states += 1  # the component is an occupant: it hears them, and needs none
            return False
        if not at or domain == self.muc_domain:
            return True  # the XMPP server itself, or one of our rooms
        request = xml.tag.endswith("}iq") and xml.get("type") in ("get", "set")
        verdict = self.budget.charge(bare, self.kind_of(bare), answerable=request)
        if verdict is Verdict.REFUSE:
            reply_error(Iq(self.xmpp, xml), BUSY)
        return verdict is Verdict.ADMIT

    # -- 2. IQ handlers behind the in-flight caps ----------------------------------

    def iq(self, name: str, path: str, handler: Callable[[Iq], Awaitable[None]]) -> None:
        """Register ``handler`` (``name`` for the reader) for IQs matching ``path``
        (``iq@type=get|set/<plugin attrib>``); each run holds an in-flight slot."""
        def admit(iq: Iq) -> None:
            bare = iq["from"].bare
            verdict = self.budget.start(bare, self.kind_of(bare))
            if verdict is Verdict.ADMIT:
                self._spawn(handler(iq), functools.partial(self._finished, bare))
            else:
                reply_error(iq, BUSY)
        self.requests.add(path, admit)

    # -- 3. room messages and presence ----------------------------------------------

    def message(self, key: str, side: str, handler: Handler, stanza: StanzaBase) -> bool:
        """A room message, never answered, of which only the activity matters: charged to
        ``key`` (the room) and dropped past the room's rate. Within it, one handler at a
        time per room and side, the newest message waiting meanwhile (as presence does):
        a message that arrives while the other side's, or an earlier one, is handled is
        noted, not dropped. Returns whether it was taken."""
        if self.budget.charge(key, "room", answerable=False) is not Verdict.ADMIT:
            return False
        self.latest(f"{key} {side}", handler, stanza)
        return True

    def latest(self, key: str, handler: Handler, stanza: StanzaBase) -> None:
        """Presence is state: while ``key``'s last presence is being handled, only the
        newest one waits (it supersedes any waiting before it), so nothing is lost that
        matters and nothing queues."""
        if key in self._latest:
            if self._latest[key] is not None:
                self.superseded += 1
            self._latest[key] = (handler, stanza)
            return
        if len(self._latest) >= self.budget.max_senders:
            self.budget.dropped += 1
            return
        self._latest[key] = None
        self._run_latest(key, handler, stanza)

    def _run_latest(self, key: str, handler: Handler, stanza: StanzaBase) -> None:
        self.budget.admitted += 1
        self._spawn(handler(stanza), functools.partial(self._latest_done, key))

    def _latest_done(self, key: str) -> None:
        waiting = self._latest.get(key)
        if waiting is None or self.closed:
            self._latest.pop(key, None)
            return
        self._latest[key] = None
        self._run_latest(key, *waiting)

    # -- tasks -------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None], done: Callable[[], None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(functools.partial(self._task_done, done))

    def _task_done(self, done: Callable[[], None], task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if isinstance(exc, IdChatError):
            log.warning("%s: %s", type(exc).__name__, exc.detail)
        elif isinstance(exc, RedisError):
            log.warning("Redis unavailable")
        elif exc is not None:  # its text may hold personal data: the type only
            log.error("unhandled %s in a stanza handler", type(exc).__name__)
        done()

    def _finished(self, key: str) -> None:
        self.budget.finish(key)

    async def close(self) -> None:
        """Cancel the handlers still running (at shutdown)."""
        self.closed = True
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)

    def report(self) -> None:
        """A warning at most every REPORT_SECONDS while senders are over their budget:
        counts only, never who (a JID is personal data). Idle senders are forgotten then."""
        now = self.budget.clock()
        if now - self._reported_at < REPORT_SECONDS:
            return
        b = self.budget
        b.forget_idle()  # every REPORT_SECONDS: a pass over at most budget.senders entries
        admitted, refused, dropped = (b.admitted - self._reported[0], b.refused - self._reported[1],
                                      b.dropped - self._reported[2])
        if refused or dropped:
            log.warning("budget: senders over their budget in the last %.0f s: admitted %d, refused %d, "
                        "dropped %d; %d handlers running, %d senders tracked",
                        now - self._reported_at, admitted, refused, dropped, b.in_flight, b.senders)
        self._reported_at, self._reported = now, (b.admitted, b.refused, b.dropped)
