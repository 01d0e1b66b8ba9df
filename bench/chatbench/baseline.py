"""The raw-XMPP baseline: the XMPP work of one chat, done by slixmpp clients alone on the same
XMPP server, without the component process, the HTTP service or Redis.

Per session, in a closed loop like the load runs:

1. an anonymous guest logs in (as the citizen does);
2. the *owner*, a slixmpp component connection with the project's component domain and
   secret (the only JID the server lets create rooms), creates the room (join presence,
   not waited for, as component/rooms.py does), submits the same configuration form and
   makes the guest a member, the two requests back to back;
3. the guest joins the room;
4. the owner makes the next agent (round robin) a member and sends that agent a headline
   with the room and the attributes as a XEP-0004 form, the size of ID Chat's attributes
   message (about 494 bytes): the invitation;
5. the agent joins the room and waits for the guest's presence there; four room messages,
   two each way, each waited for by the other side;
6. the owner destroys the room; the session is complete when the guest has the room's
   destroy notice. The guest logs out (not waited for, as in the load runs).

**Setup** is the time from the start of the guest login until the agent holds the
attributes message; **session** until the guest has the destroy notice. There is no HTTP
start and page, no claim and no offer: what is left is what the XMPP server must do.

The owner and the component cannot be connected at once (Prosody takes one connection per
component domain, ejabberd would spread the stanzas over both): the baseline runs before
the HTTP service and the component start.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from typing import Any
from xml.etree import ElementTree as ET

from benchlib import ATTRS, percentile

from .clients import (
    Inbox,
    StepError,
    close_client,
    join_room,
    local_stanzas,
    make_client,
    start_session,
)
from .common import (
    AGENT_DOMAIN,
    AGENT_PASSWORD,
    COMPONENT_DOMAIN,
    GUEST_DOMAIN,
    MUC_DOMAIN,
    STEP_TIMEOUT,
    median,
    reference_ms,
)
from .runs import RunResult, fill_window, run_window, window_reading
from .stack import Stack

OWNER_NICK = "ID Chat"
GUEST_NICK = "Inwoner"
ATTRIBUTES_BYTES = 494  # ID Chat's attributes headline to the agent (§5), as serialised
RAW_STEPS = ("guest login", "room created", "join room", "joined -> attributes",
             "attributes -> ended")


class Owner:
    """The room owner: a slixmpp component connection, as the component (component/rooms.py)."""

    def __init__(self, stack: Stack) -> None:
        from slixmpp import JID, ComponentXMPP
        self.stack = stack
        self.xmpp = ComponentXMPP(COMPONENT_DOMAIN, stack.xmpp_env["IDCHAT_XMPP_COMPONENT_SECRET"],
                                  "127.0.0.1", stack.component_port,
                                  plugin_config={"xep_0045": {"multi_from": True}},
                                  fix_error_ns=True)
        for plugin in ("xep_0004", "xep_0030", "xep_0045"):
            self.xmpp.register_plugin(plugin)
        # xep_0045 pulls in XEP-0172, PEP and entity caps, which would ask every occupant
        # with caps in its presence for its features (disco#info): not work a room needs.
        self.xmpp.remove_handler("Entity Capabilities")
        self.me = JID(f"{COMPONENT_DOMAIN}/rooms")
        self.muc = self.xmpp.plugin["xep_0045"]
        self.form: Any = None
        self._ids = itertools.count()

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = loop.create_future()
        def on_start(_event: Any) -> None:
            if not started.done():
                started.set_result(None)
        self.xmpp.add_event_handler("session_start", on_start)
        self.xmpp.connect()
        try:
            await asyncio.wait_for(started, 15)
        except asyncio.TimeoutError:
            raise RuntimeError("baseline: the owner's component connection was not accepted") \
                from None

    async def prepare(self) -> None:
        """The configuration form the server offers, asked once (the component caches it)."""
        from component.rooms import PRIVATE_ROOM, ROOMCONFIG
        room = self.room("baseline-probe")
        self._join(room)
        offered = set((await self.muc.get_room_config(room, ifrom=self.me,
                                                      timeout=STEP_TIMEOUT)).get_values())
        form = self.xmpp.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value=ROOMCONFIG)
        for var, value in {**PRIVATE_ROOM, "muc#roomconfig_roomname": "Verhuizing"}.items():
            if var in offered:
                form.add_field(var=var, value=value)
        self.form = form
        await self.muc.set_room_config(room, form, ifrom=self.me, timeout=STEP_TIMEOUT)
        await self.muc.destroy(room, ifrom=self.me, timeout=STEP_TIMEOUT)

    def room(self, name: str) -> Any:
        from slixmpp import JID
        return JID(f"{name}@{MUC_DOMAIN}")

    def new_room(self) -> Any:
        return self.room(f"raw{next(self._ids):07d}x{id(self) % 9973}")

    def _join(self, room: Any) -> None:
        from slixmpp import JID
        join = self.xmpp.make_presence(pto=JID(f"{room.bare}/{OWNER_NICK}"), pfrom=self.me)
        join.append(ET.Element("{http://jabber.org/protocol/muc}x"))
        join.send()

    async def create(self, room: Any, member: str) -> None:
        from slixmpp import JID
        self._join(room)
        await asyncio.gather(
            self.muc.set_room_config(room, self.form, ifrom=self.me, timeout=STEP_TIMEOUT),
            self.muc.set_affiliation(room, "member", jid=JID(member), ifrom=self.me,
                                     timeout=STEP_TIMEOUT))

    async def invite(self, room: Any, agent: Any) -> None:
        """Membership for the agent, then the attributes headline (with the room) to it."""
        from slixmpp import JID
        await self.muc.set_affiliation(room, "member", jid=JID(agent.bare), ifrom=self.me,
                                       timeout=STEP_TIMEOUT)
        self.attributes_message(room, agent).send()

    def attributes_message(self, room: Any, agent: Any) -> Any:
        msg = self.xmpp.make_message(mto=agent, mfrom=COMPONENT_DOMAIN, mtype="headline")
        x = ET.SubElement(msg.xml, "{jabber:x:data}x", {"type": "result"})
        fields = {"room": room.bare, **ATTRS}
        for var, value in fields.items():
            field = ET.SubElement(x, "{jabber:x:data}field", {"var": var})
            ET.SubElement(field, "{jabber:x:data}value").text = value
        pad = ATTRIBUTES_BYTES - len(str(msg))
        if pad > 0:  # a label field brings it to the size of ID Chat's message
            field = ET.SubElement(x, "{jabber:x:data}field", {"var": "purpose"})
            ET.SubElement(field, "{jabber:x:data}value").text = \
                "x" * max(1, pad - len('<field var="purpose"><value /></field>'))
        return msg

    async def destroy(self, room: Any) -> None:
        await self.muc.destroy(room, ifrom=self.me, timeout=STEP_TIMEOUT)

    async def close(self) -> None:
        await close_client(self.xmpp)


class RawAgent:
    """An agent account: joins the room named in an attributes headline, talks."""

    def __init__(self, xmpp: Any, nick: str) -> None:
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        self.xmpp, self.nick = xmpp, nick
        self.inbox = Inbox()
        self.arrived: dict[str, asyncio.Future[tuple[float, str]]] = {}
        self.guest_in: dict[str, asyncio.Event] = {}
        xmpp.register_handler(Callback("raw headline", StanzaPath("message@type=headline"),
                                       self._on_headline))
        xmpp.add_event_handler("groupchat_message", self._on_groupchat)
        xmpp.add_event_handler("groupchat_presence", self._on_room_presence)

    def _slot(self, room: str) -> asyncio.Future[tuple[float, str]]:
        fut = self.arrived.get(room)
        if fut is None:
            fut = self.arrived[room] = asyncio.get_running_loop().create_future()
        return fut

    def _on_headline(self, msg: Any) -> None:
        now = time.perf_counter()
        x = msg.xml.find("{jabber:x:data}x")
        if x is None:
            return
        values = {f.get("var"): f.findtext("{jabber:x:data}value") for f in x}
        room = values.get("room") or ""
        fut = self._slot(room)
        if not fut.done():
            fut.set_result((now, room))

    def _on_groupchat(self, msg: Any) -> None:
        if msg["from"].resource == GUEST_NICK:
            self.inbox.arrived(msg["body"])

    def _on_room_presence(self, pres: Any) -> None:
        if pres["from"].resource == GUEST_NICK and pres["type"] != "unavailable":
            self._guest_event(pres["from"].bare).set()

    def _guest_event(self, room: str) -> asyncio.Event:
        ev = self.guest_in.get(room)
        if ev is None:
            ev = self.guest_in[room] = asyncio.Event()
        return ev

    async def take(self, room: Any) -> float:
        """Wait for the attributes of ``room``, join, wait for the guest: the time the
        attributes arrived."""
        try:
            t_attrs, _ = await asyncio.wait_for(asyncio.shield(self._slot(room.bare)),
                                                STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError("agent: attributes", "timeout") from None
        finally:
            self.arrived.pop(room.bare, None)
        await join_room(self.xmpp, room.bare, self.nick)
        try:
            await asyncio.wait_for(self._guest_event(room.bare).wait(), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError("agent: guest in room", "timeout") from None
        finally:
            self.guest_in.pop(room.bare, None)
        return t_attrs

    async def talk(self, room: Any) -> None:
        self.xmpp.send_message(mto=room, mbody=f"a1 {room.user}", mtype="groupchat")
        await self.inbox.wait(f"c1 {room.user}", "agent: c1")
        self.xmpp.send_message(mto=room, mbody=f"a2 {room.user}", mtype="groupchat")
        await self.inbox.wait(f"c2 {room.user}", "agent: c2")


class RawGuest:
    def __init__(self, port: int) -> None:
        self.port = port
        self.xmpp: Any = None
        self.inbox = Inbox()
        self.destroyed: asyncio.Future[float] | None = None
        self.room = ""

    async def login(self) -> None:
        self.xmpp = make_client(GUEST_DOMAIN, "", sasl_mech="ANONYMOUS")
        self.destroyed = asyncio.get_running_loop().create_future()
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        self.xmpp.add_event_handler("groupchat_message", self._on_groupchat)
        self.xmpp.register_handler(Callback("raw destroyed", StanzaPath("presence@type=unavailable"),
                                            self._on_unavailable))
        await start_session(self.xmpp, self.port)

    def _on_groupchat(self, msg: Any) -> None:
        nick = msg["from"].resource
        if nick and nick != GUEST_NICK and msg["body"]:
            self.inbox.arrived(msg["body"])

    def _on_unavailable(self, pres: Any) -> None:
        # The room's destroy notice: our own unavailable presence with <destroy/>.
        if pres["from"].bare == self.room and pres["from"].resource == GUEST_NICK \
                and pres.xml.find(".//{http://jabber.org/protocol/muc#user}destroy") is not None:
            if self.destroyed is not None and not self.destroyed.done():
                self.destroyed.set_result(time.perf_counter())

    async def talk(self, room: Any) -> None:
        await self.inbox.wait(f"a1 {room.user}", "guest: a1")
        self.xmpp.send_message(mto=room, mbody=f"c1 {room.user}", mtype="groupchat")
        await self.inbox.wait(f"a2 {room.user}", "guest: a2")
        self.xmpp.send_message(mto=room, mbody=f"c2 {room.user}", mtype="groupchat")

    async def close(self) -> None:
        if self.xmpp is not None:
            await close_client(self.xmpp)
            self.xmpp = None


async def connect_raw_agents(names: list[str], port: int) -> list[RawAgent]:
    async def one(name: str) -> RawAgent:
        xmpp = make_client(f"{name}@{AGENT_DOMAIN}", AGENT_PASSWORD)
        agent = RawAgent(xmpp, name.capitalize())
        await start_session(xmpp, port)
        return agent
    agents = []
    for i in range(0, len(names), 10):
        agents.extend(await asyncio.gather(*(one(n) for n in names[i:i + 10])))
    return agents


async def raw_session(owner: Owner, agent: RawAgent, guest: RawGuest
                      ) -> tuple[float, float, float, float, float, float]:
    """One chat; returns (t0, login, created, joined, attributes, done)."""
    t0 = time.perf_counter()
    await guest.login()
    t_login = time.perf_counter()
    room = owner.new_room()
    guest.room = room.bare
    try:
        await owner.create(room, guest.xmpp.boundjid.bare)
    except Exception as exc:  # noqa: BLE001 - IqError, IqTimeout
        raise StepError("create", type(exc).__name__) from None
    t_created = time.perf_counter()
    await join_room(guest.xmpp, room.bare, GUEST_NICK)
    t_joined = time.perf_counter()
    taking = asyncio.ensure_future(agent.take(room))
    try:
        await owner.invite(room, agent.xmpp.boundjid)
        t_attrs = await taking
    except Exception as exc:
        taking.cancel()
        await asyncio.gather(taking, return_exceptions=True)
        if isinstance(exc, StepError):
            raise
        raise StepError("invite", type(exc).__name__) from None
    await asyncio.gather(agent.talk(room), guest.talk(room))
    try:
        await owner.destroy(room)
    except Exception as exc:  # noqa: BLE001
        raise StepError("destroy", type(exc).__name__) from None
    assert guest.destroyed is not None
    try:
        t_done = await asyncio.wait_for(asyncio.shield(guest.destroyed), STEP_TIMEOUT)
    except asyncio.TimeoutError:
        raise StepError("guest: destroyed", "timeout") from None
    return t0, t_login, t_created, t_joined, t_attrs, t_done


async def run_baseline(stack: Stack, owner: Owner, agents: list[RawAgent], concurrency: int,
                       warmup: float, duration: float) -> RunResult:
    """The closed loop of raw sessions, measured as run_load measures ID Chat."""
    result = RunResult(concurrency=concurrency, kind="raw", server=stack.server_kind,
                       instances=0, connected=0, agents=len(agents), max_chats=0,
                       warmup_s=warmup, planned_s=duration)
    times: list[tuple[float, ...]] = []
    errors: dict[str, int] = {}
    window = {"start": math.inf, "stopping": False, "last_end": 0.0}
    logouts: set[asyncio.Task[None]] = set()
    turn = itertools.count()

    async def worker() -> None:
        while not window["stopping"]:
            measured = time.perf_counter() >= window["start"]
            guest = RawGuest(stack.c2s_port)
            agent = agents[next(turn) % len(agents)]
            try:
                t = await raw_session(owner, agent, guest)
            except StepError as exc:
                if measured:
                    errors[exc.step] = errors.get(exc.step, 0) + 1
                if guest.room:
                    try:
                        await owner.destroy(owner.room(guest.room.split("@", 1)[0]))
                    except Exception:  # noqa: BLE001 - best effort
                        pass
                await guest.close()
                await asyncio.sleep(0.05)
                continue
            closing = asyncio.ensure_future(guest.close())  # not waited for: see run_load
            logouts.add(closing)
            closing.add_done_callback(logouts.discard)
            if measured:
                times.append(t)
                window["last_end"] = max(window["last_end"], t[-1])

    workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    try:
        await asyncio.sleep(warmup)
        pids = {"xmpp": stack.server_pid}  # Redis idles: its commands are counted below
        before = window_reading(stack, pids, services=False)
        window["start"] = time.perf_counter()
        await run_window(stack, window, workers, logouts, duration)
        end = window["last_end"] if times else time.perf_counter()
        after = window_reading(stack, pids, services=False)
    finally:
        window["stopping"] = True
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, *list(logouts), return_exceptions=True)

    elapsed = end - window["start"]
    setup = sorted((t[4] - t[0]) * 1000 for t in times)
    whole = sorted((t[5] - t[0]) * 1000 for t in times)
    result.measured_s = elapsed
    result.sessions_ok = len(times)
    result.errors = sum(errors.values())
    result.error_kinds = errors
    result.sessions_per_s = len(times) / elapsed if elapsed > 0 else 0.0
    result.setup_p50_ms, result.setup_p95_ms, result.setup_p99_ms = (
        percentile(setup, p) for p in (50, 95, 99))
    result.setup_max_ms = setup[-1] if setup else math.nan
    result.session_p50_ms, result.session_p99_ms = percentile(whole, 50), percentile(whole, 99)
    for i, name in enumerate(RAW_STEPS):
        result.step_ms[name] = median([(t[i + 1] - t[i]) * 1000 for t in times])
    fill_window(result, before, after, elapsed, len(times))
    return result


async def baseline_runs(stack: Stack, agent_names: list[str], concurrencies: list[int],
                        warmup: float, duration: float, before_each: Any, log: Any
                        ) -> list[RunResult]:
    """Every concurrency in turn, with one owner connection and the agents logged in once."""
    local_stanzas()  # count from here on
    owner = Owner(stack)
    await owner.connect()
    agents: list[RawAgent] = []
    results = []
    try:
        await owner.prepare()
        agents = await connect_raw_agents(agent_names, stack.c2s_port)
        for concurrency in concurrencies:
            await before_each()
            print(f"baseline (raw XMPP): {concurrency} at once, {len(agents)} agents, "
                  f"{warmup:g} s warm-up + {duration:g} s ...", file=log)
            ref_before = reference_ms()
            results.append(await run_baseline(stack, owner, agents, concurrency, warmup,
                                              duration))
            results[-1].ref_ms_before, results[-1].ref_ms_after = ref_before, reference_ms()
    finally:
        await asyncio.gather(*(close_client(a.xmpp) for a in agents), return_exceptions=True)
        await owner.close()
    return results
