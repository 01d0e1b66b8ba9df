"""The people of a chat, as slixmpp clients in the benchmark process: the citizen (the core's
start request, the page, an anonymous guest who claims and joins) and the agent (who
accepts every offer at once, talks and ends the chat)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from .clients import (
    Inbox,
    StepError,
    close_client,
    guest_login,
    join_room,
    make_client,
    start_session,
)
from .common import (
    AGENT_DOMAIN,
    AGENT_PASSWORD,
    CITIZEN_NICK,
    COMPONENT_DOMAIN,
    CONFIG_RE,
    MUC_DOMAIN,
    PURPOSE,
    STEP_TIMEOUT,
)


@dataclass
class ChatRec:
    """What both sides of one chat record (perf_counter seconds)."""
    t_offer: float = math.nan
    t_attrs: float = math.nan
    t_accepted: float = math.nan
    t_agent_joined: float = math.nan
    attr_fields: int = 0
    ready: asyncio.Future[None] | None = None  # agent accepted, has attributes, is in the room
    agent: "AgentActor | None" = None

    def ready_future(self) -> asyncio.Future[None]:
        if self.ready is None:
            self.ready = asyncio.get_running_loop().create_future()
        return self.ready


class Hub:
    """Shared by the agents and citizens of this process: per-chat records, counters."""

    def __init__(self, hold: bool = False) -> None:
        self.chats: dict[str, ChatRec] = {}
        self.hold = hold  # memory mode: agents accept and join, then keep the chat open
        self.agent_errors: dict[str, int] = {}

    def rec(self, cid: str) -> ChatRec:
        rec = self.chats.get(cid)
        if rec is None:
            rec = self.chats[cid] = ChatRec()
        return rec

    def agent_error(self, kind: str) -> None:
        self.agent_errors[kind] = self.agent_errors.get(kind, 0) + 1


class AgentBase:
    """What every benchmark agent does alike: an agent account's slixmpp client that says it
    is available, takes each offer in a task of its own (:meth:`take`), and sends the
    component its IQs and the room its messages. Subclasses say what an agent does with an
    offer and with the headlines, room messages and room presences that follow."""

    def __init__(self, xmpp: Any, nick: str, timeout: float = STEP_TIMEOUT) -> None:
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        self.xmpp, self.nick, self.timeout = xmpp, nick, timeout
        self.confirmed = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        xmpp.register_handler(Callback("bench headline", StanzaPath("message@type=headline"),
                                       self._on_headline))
        xmpp.add_event_handler("groupchat_message", self._on_groupchat)
        xmpp.add_event_handler("groupchat_presence", self._on_room_presence)
        xmpp.add_event_handler("presence", self._on_presence)

    def _on_presence(self, pres: Any) -> None:
        if pres["from"].bare == COMPONENT_DOMAIN and pres["idchat_agent"]["available"] == "true":
            self.confirmed.set()

    def _on_headline(self, msg: Any) -> None:
        from component.protocol.stanza import NS
        now = time.perf_counter()
        xml = msg.xml
        if xml.find(f"{{{NS}}}offer") is not None:
            offer = msg["idchat_offer"]
            task = asyncio.ensure_future(self.take(offer["id"], offer["chat"], now))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif xml.find(f"{{{NS}}}attributes") is not None:
            self.on_attributes(msg["idchat_attributes"], now)
        elif xml.find(f"{{{NS}}}ended") is not None:
            self.on_ended(msg["idchat_ended"]["chat"])
        elif xml.find(f"{{{NS}}}revoke") is not None:
            self.on_revoke(msg["idchat_revoke"])

    def _on_groupchat(self, msg: Any) -> None:
        if msg["from"].resource == CITIZEN_NICK:
            self.on_citizen_said(msg["from"].user, msg["body"])

    def _on_room_presence(self, pres: Any) -> None:
        if pres["from"].resource == CITIZEN_NICK and pres["type"] != "unavailable":
            self.on_citizen_in(pres["from"].user)

    async def take(self, oid: str, cid: str, t_offer: float) -> None:
        raise NotImplementedError

    def on_attributes(self, el: Any, now: float) -> None:
        """The attributes message of a chat (its ``idchat_attributes`` element)."""

    def on_ended(self, cid: str) -> None:
        """The component says the chat ended."""

    def on_revoke(self, el: Any) -> None:
        """An offer was taken back (its ``idchat_revoke`` element)."""

    def on_citizen_said(self, cid: str, body: str) -> None:
        """The citizen said ``body`` in the room of chat ``cid``."""

    def on_citizen_in(self, cid: str) -> None:
        """The citizen is in the room of chat ``cid``."""

    async def available(self, max_chats: int, timeout: float = 10.0) -> None:
        pres = self.xmpp.make_presence(pto=COMPONENT_DOMAIN)
        pres["idchat_agent"]["max-chats"] = str(max_chats)
        pres.send()
        try:
            await asyncio.wait_for(self.confirmed.wait(), timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"agent {self.nick}: the component did not confirm availability") \
                from None

    async def iq(self, kind: str, ptype: str = "set", **attrs: str) -> Any:
        iq = self.xmpp.make_iq(ito=COMPONENT_DOMAIN, itype=ptype)
        el = iq[kind]
        for k, v in attrs.items():
            el[k] = v
        return await iq.send(timeout=self.timeout)

    def say(self, room: str, text: str) -> None:
        from slixmpp import JID
        self.xmpp.send_message(mto=JID(room), mbody=text, mtype="groupchat")

    async def end_chat(self, cid: str) -> None:
        await self.iq("idchat_end", chat=cid)


class AgentActor(AgentBase):
    """An agent who accepts every offer at once, then (load mode) talks and ends the chat."""

    def __init__(self, hub: Hub, xmpp: Any, nick: str) -> None:
        super().__init__(xmpp, nick)
        self.hub = hub
        self.inbox = Inbox()
        self.citizen_in: dict[str, asyncio.Event] = {}
        self.open_chats: set[str] = set()

    def on_attributes(self, el: Any, now: float) -> None:
        rec = self.hub.rec(el["chat"])
        rec.t_attrs = now
        rec.attr_fields = len(el["form"].get_fields())

    def on_ended(self, cid: str) -> None:
        self.open_chats.discard(cid)
        self.citizen_in.pop(cid, None)

    def on_revoke(self, el: Any) -> None:
        self.hub.agent_error("offer revoked")

    def on_citizen_said(self, cid: str, body: str) -> None:
        self.inbox.arrived(body)

    def on_citizen_in(self, cid: str) -> None:
        ev = self.citizen_in.get(cid)
        if ev is None:
            ev = self.citizen_in[cid] = asyncio.Event()
        ev.set()

    async def take(self, oid: str, cid: str, t_offer: float) -> None:
        rec = self.hub.rec(cid)
        rec.t_offer = t_offer
        rec.agent = self
        try:
            accepted = (await self.iq("idchat_accept", offer=oid))["idchat_accepted"]
            rec.t_accepted = time.perf_counter()
            self.open_chats.add(cid)
            await join_room(self.xmpp, accepted["room"], self.nick)
            rec.t_agent_joined = time.perf_counter()
            ev = self.citizen_in.get(cid)
            if ev is None:
                ev = self.citizen_in[cid] = asyncio.Event()
            try:
                await asyncio.wait_for(ev.wait(), STEP_TIMEOUT)
            except asyncio.TimeoutError:
                raise StepError("agent: citizen in room", "timeout") from None
            if math.isnan(rec.t_attrs):  # sent before the accept result: should be here
                raise StepError("agent: attributes", "missing")
            fut = rec.ready_future()
            if not fut.done():
                fut.set_result(None)
            if self.hub.hold:
                return
            room = accepted["room"]
            self.say(room, f"a1 {cid}")
            await self.inbox.wait(f"c1 {cid}", "agent: c1")
            self.say(room, f"a2 {cid}")
            await self.inbox.wait(f"c2 {cid}", "agent: c2")
            await self.iq("idchat_end", chat=cid)
        except StepError as exc:
            self.hub.agent_error(exc.step)
            self._fail(rec, exc)
        except Exception as exc:  # noqa: BLE001 - IqError, IqTimeout, ...
            kind = f"agent: {type(exc).__name__}"
            if hasattr(exc, "iq"):
                kind += f" {exc.iq['error']['condition']}"
            self.hub.agent_error(kind)
            self._fail(rec, exc)

    @staticmethod
    def _fail(rec: ChatRec, exc: BaseException) -> None:
        fut = rec.ready_future()
        if not fut.done():
            fut.set_exception(StepError("agent", str(exc)))
            fut.exception()  # retrieved: no "never retrieved" warning when nobody waits


@dataclass
class SessionTimes:
    t0: float
    start: float
    page: float
    connect: float
    claim: float
    joined: float
    offer: float
    attrs: float
    done: float


async def start_and_page(http: Any, base: str, token: str, via_attr_url: bool = False
                         ) -> tuple[float, float, str]:
    """The core's ``start_communication`` (with the token, or, ``via_attr_url``, without it
    and then the token posted to ``attr_url`` as an auth plugin does) and the page: (the time
    the session was started, the time the page was read, the claim ticket on the page)."""
    import aiohttp
    body = {"purpose": PURPOSE} if via_attr_url else {"purpose": PURPOSE, "auth_result": token}
    try:
        async with http.post(f"{base}/start_communication", data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"}) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise StepError("start_communication", str(resp.status))
        t_start = time.perf_counter()
        answer = json.loads(raw)
        if via_attr_url:
            async with http.post(answer["attr_url"], data=token.encode(),
                                 headers={"Content-Type": "application/jwt"}) as resp:
                if resp.status != 200:
                    raise StepError("attr_url", str(resp.status))
            t_start = time.perf_counter()
        client_url = answer["client_url"]
        if not client_url.startswith(base + "/"):  # only our loopback service
            raise StepError("start_communication", f"unexpected client_url {client_url!r}")
        async with http.get(client_url, headers={"Accept": "text/html"}) as resp:
            page = await resp.text()
            if resp.status != 200:
                raise StepError("client_url", str(resp.status))
            cookies = resp.headers.getall("Set-Cookie", [])
    except aiohttp.ClientError as exc:
        raise StepError("http", type(exc).__name__) from None
    t_page = time.perf_counter()
    match = CONFIG_RE.search(page)
    if match is None:
        raise StepError("client_url", "no idchat-config")
    ticket = json.loads(match.group(1))["ticket"]
    if not any(c.startswith("idchat_browser=") for c in cookies):
        raise StepError("client_url", "no browser cookie")
    return t_start, t_page, str(ticket)


async def claim(xmpp: Any, ticket: str, timeout: float = STEP_TIMEOUT) -> Any:
    """The guest claims its chat with the page's ticket (§1): the ``idchat_claimed`` answer."""
    iq = xmpp.make_iq(ito=COMPONENT_DOMAIN, itype="set")
    iq["idchat_claim"]["ticket"] = ticket
    try:
        return (await iq.send(timeout=timeout))["idchat_claimed"]
    except Exception as exc:  # noqa: BLE001 - IqError, IqTimeout
        cond = exc.iq["error"]["condition"] if hasattr(exc, "iq") else ""
        raise StepError("claim", f"{type(exc).__name__} {cond}".strip()) from None


async def end_as_citizen(xmpp: Any, timeout: float) -> bool:
    """The page's "end chat" button: an end request; False when it was refused or not
    answered (best effort: an agent may have ended the chat just now)."""
    iq = xmpp.make_iq(ito=COMPONENT_DOMAIN, itype="set")
    iq["idchat_end"]  # creates the element
    try:
        await iq.send(timeout=timeout)
    except Exception:  # noqa: BLE001 - IqError, IqTimeout
        return False
    return True


class Citizen:
    """One browser: the two HTTP requests, then an anonymous guest through the chat."""

    def __init__(self, hub: Hub, http: Any, base: str, c2s_port: int) -> None:
        self.hub, self.http, self.base, self.port = hub, http, base, c2s_port
        self.xmpp: Any = None
        self.cid = ""
        self.ended: asyncio.Future[float] | None = None
        self.inbox = Inbox()

    async def open(self, token: str) -> tuple[float, float, float, float, float, float]:
        """Up to and including joining the room; returns the timestamps so far."""
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        t0 = time.perf_counter()
        t_start, t_page, ticket = await start_and_page(self.http, self.base, token)
        self.ended = asyncio.get_running_loop().create_future()

        def handlers(xmpp: Any) -> None:
            xmpp.register_handler(Callback("bench status", StanzaPath("message@type=headline"),
                                           self._on_headline))
            xmpp.add_event_handler("groupchat_message", self._on_groupchat)
        xmpp = self.xmpp = await guest_login(self.port, handlers)
        t_conn = time.perf_counter()
        claimed = await claim(xmpp, ticket)
        t_claim = time.perf_counter()
        self.cid = claimed["room"].split("@", 1)[0]
        await join_room(xmpp, claimed["room"], claimed["nick"])
        return t0, t_start, t_page, t_conn, t_claim, time.perf_counter()

    def _on_headline(self, msg: Any) -> None:
        st = msg["idchat_status"]
        if st["state"] == "ended" and self.ended is not None and not self.ended.done():
            self.ended.set_result(time.perf_counter())

    def _on_groupchat(self, msg: Any) -> None:
        nick = msg["from"].resource
        if nick and nick != CITIZEN_NICK and msg["body"]:
            self.inbox.arrived(msg["body"])

    async def wait_ready(self) -> ChatRec:
        rec = self.hub.rec(self.cid)
        try:
            await asyncio.wait_for(asyncio.shield(rec.ready_future()), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError("agent ready", "timeout") from None
        return rec

    async def run(self, token: str) -> SessionTimes:
        from slixmpp import JID
        t0, t_start, t_page, t_conn, t_claim, t_joined = await self.open(token)
        cid, room = self.cid, JID(f"{self.cid}@{MUC_DOMAIN}")
        await self.inbox.wait(f"a1 {cid}", "citizen: a1")
        self.xmpp.send_message(mto=room, mbody=f"c1 {cid}", mtype="groupchat")
        await self.inbox.wait(f"a2 {cid}", "citizen: a2")
        self.xmpp.send_message(mto=room, mbody=f"c2 {cid}", mtype="groupchat")
        assert self.ended is not None
        try:
            t_done = await asyncio.wait_for(asyncio.shield(self.ended), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError("citizen: ended", "timeout") from None
        rec = self.hub.chats.pop(cid, None)
        if rec is None or math.isnan(rec.t_attrs):
            raise StepError("attributes", "never reached the agent")
        return SessionTimes(t0, t_start, t_page, t_conn, t_claim, t_joined, rec.t_offer,
                            rec.t_attrs, t_done)

    async def abandon(self) -> None:
        """After an error: end the chat as the citizen (best effort), then log out."""
        if self.xmpp is None:
            return
        if self.cid and self.ended is not None and not self.ended.done():
            await end_as_citizen(self.xmpp, 3)
        self.hub.chats.pop(self.cid, None)
        await self.close()

    async def close(self) -> None:
        if self.xmpp is not None:
            await close_client(self.xmpp)
            self.xmpp = None


A = TypeVar("A", bound=AgentBase)


async def connect(make: Callable[[Any, str], A], names: list[str], port: int, max_chats: int,
                  timeout: float = 10.0) -> list[A]:
    """Agents logged in and available: ``make(xmpp, nick)`` makes each from its client."""
    async def one(name: str) -> A:
        xmpp = make_client(f"{name}@{AGENT_DOMAIN}", AGENT_PASSWORD)
        agent = make(xmpp, name.capitalize())
        await start_session(xmpp, port)
        await agent.available(max_chats, timeout)
        return agent
    agents = []
    for i in range(0, len(names), 10):  # a few at a time: the login is the expensive part
        agents.extend(await asyncio.gather(*(one(n) for n in names[i:i + 10])))
    return agents


async def connect_agents(hub: Hub, names: list[str], port: int, max_chats: int) -> list[AgentActor]:
    return await connect(lambda xmpp, nick: AgentActor(hub, xmpp, nick), names, port, max_chats)


async def close_agents(agents: Sequence[AgentBase]) -> None:
    for agent in agents:
        for task in list(agent.tasks):
            task.cancel()
    await asyncio.gather(*(t for a in agents for t in a.tasks), return_exceptions=True)
    await asyncio.gather(*(close_client(a.xmpp) for a in agents), return_exceptions=True)


def http_session(limit: int) -> Any:
    import aiohttp
    # Every citizen is another browser: no shared cookie jar (the cookie is checked by hand).
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 cookie_jar=aiohttp.DummyCookieJar(),
                                 timeout=aiohttp.ClientTimeout(total=STEP_TIMEOUT))


