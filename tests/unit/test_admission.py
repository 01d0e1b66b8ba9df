"""The admission step on a real (unconnected) slixmpp component: stanzas go in as parsed
XML, exactly as from the stream; what the component would send is recorded."""

from __future__ import annotations

import asyncio
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from slixmpp import ComponentXMPP, Iq

from component.admission import Admission
from component.budget import Budget
from component.protocol import stanza
from xmpp_plugin.settings import BudgetSettings, Settings

COMPONENT = "component.idchat.localhost"
GUEST = "b3a1@guest.idchat.localhost/x"
LIMITS = BudgetSettings(guest_rate=2.0, guest_burst=10, guest_in_flight=2, refusals=5,
                        room_rate=1.0, room_burst=3, in_flight=8, senders=100)

stanza.register()


class Component(ComponentXMPP):
    """Wired as component/gateway.py wires it: the budget screens each parsed stanza."""

    admission: Admission

    def _spawn_event(self, xml: ET.Element) -> None:
        if self.admission.screen(xml):
            super()._spawn_event(xml)


class Harness:
    """A component whose handlers block until released, and an outbox instead of a socket."""

    def __init__(self, limits: BudgetSettings = LIMITS) -> None:
        self.xmpp = Component(COMPONENT, "secret", "127.0.0.1", 1)
        self.sent: list[Any] = []
        self.xmpp.send = lambda data, *a, **kw: self.sent.append(data)  # type: ignore[method-assign]
        self.budget = Budget.from_settings(limits)
        self.admission = self.xmpp.admission = Admission(self.xmpp, Settings(budget=limits),
                                                         self.budget)
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.admission.iq("claim", "iq@type=set/idchat_claim", self.on_claim)

    async def on_claim(self, iq: Iq) -> None:
        self.started.append(iq["id"])
        await self.release.wait()
        iq.reply(clear=True).send()

    def feed(self, xml: str) -> None:
        # The path of a stanza read from the stream: build, filters, handlers.
        self.xmpp._spawn_event(ET.fromstring(xml))

    def claim(self, sender: str, n: int) -> None:
        self.feed(f"<iq xmlns='jabber:component:accept' type='set' id='c{n}' from='{sender}' "
                  f"to='{COMPONENT}'><claim xmlns='{stanza.NS}' ticket='junk{n}'/></iq>")

    def errors(self, condition: str) -> list[Any]:
        return [s for s in self.sent if s["type"] == "error" and s["error"]["condition"] == condition]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_flood_from_one_guest_is_refused_then_dropped_and_never_queued() -> None:
    h = Harness()
    for n in range(1000):
        h.claim(GUEST, n)
    await settle()
    assert len(h.started) == 2                          # guest_in_flight
    assert len(h.admission.tasks) == 2                  # nothing else waits anywhere
    busy = h.errors("resource-constraint")
    assert len(busy) == 8 + 5                           # 8 of the burst (cap), 5 refusals
    assert all(e["error"]["type"] == "wait" for e in busy)
    assert len(h.sent) == len(busy)                     # no other answers: no amplification
    assert (h.budget.admitted, h.budget.refused, h.budget.dropped) == (2, 13, 985)
    h.release.set()
    await settle()
    assert h.budget.in_flight == 0 and not h.admission.tasks
    assert len([s for s in h.sent if s["type"] == "result"]) == 2


async def test_a_real_citizen_is_served_while_guests_flood() -> None:
    h = Harness()
    for n in range(500):
        for g in range(3):
            h.claim(f"flood{g}@guest.idchat.localhost/x", n)
    h.claim("juliet@guest.idchat.localhost/balcony", 9999)
    await settle()
    assert "c9999" in h.started
    assert h.budget.in_flight <= LIMITS.in_flight


async def test_the_total_cap_holds_with_many_senders() -> None:
    h = Harness()
    for g in range(20):
        h.claim(f"g{g}@guest.idchat.localhost/x", g)
    await settle()
    assert len(h.started) == LIMITS.in_flight
    assert len(h.errors("resource-constraint")) == 20 - LIMITS.in_flight


async def test_the_table_of_senders_stays_bounded_under_many_jids() -> None:
    h = Harness()
    h.release.set()
    for g in range(5000):
        h.feed(f"<presence xmlns='jabber:component:accept' from='g{g}@guest.idchat.localhost/x' "
               f"to='{COMPONENT}'/>")
    assert h.budget.senders <= LIMITS.senders


async def test_unknown_requests_from_a_flooder_are_not_answered_past_the_budget() -> None:
    h = Harness()
    for n in range(200):  # disco#info: slixmpp would answer each (here: an error reply)
        h.feed(f"<iq xmlns='jabber:component:accept' type='get' id='d{n}' from='{GUEST}' "
               f"to='{COMPONENT}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    await settle()
    assert len(h.errors("resource-constraint")) == 5
    # The 10 within the burst reached slixmpp, which answered them itself.
    assert len(h.sent) == 10 + 5


@pytest.mark.parametrize("sender", ["rooms.idchat.localhost", "k7f@rooms.idchat.localhost/Inwoner",
                                    "guest.idchat.localhost"])
async def test_our_rooms_and_the_server_are_not_charged(sender: str) -> None:
    h = Harness()
    h.release.set()
    for n in range(100):
        h.feed(f"<message xmlns='jabber:component:accept' from='{sender}' to='{COMPONENT}' "
               f"id='m{n}'/>")
    assert (h.budget.refused, h.budget.dropped, h.budget.senders) == (0, 0, 0)


async def test_typing_notifications_from_our_rooms_stop_at_the_door() -> None:
    """XEP-0085 chat states reach the component as an occupant of every room: they are
    dropped on the raw element, before slixmpp builds a stanza or any handler runs."""
    h = Harness()
    seen: list[str] = []
    h.xmpp.add_event_handler("message", lambda msg: seen.append(msg["id"]))
    room = "k7f@rooms.idchat.localhost/Inwoner"
    for n in range(50):
        h.feed(f"<message xmlns='jabber:component:accept' type='groupchat' from='{room}' "
               f"to='{COMPONENT}' id='t{n}'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
               f"<no-store xmlns='urn:xmpp:hints'/></message>")
    # The control: a message with a body (and a chat state) goes on to the handlers.
    h.feed(f"<message xmlns='jabber:component:accept' type='groupchat' from='{room}' "
           f"to='{COMPONENT}' id='said'><body>Hallo</body>"
           f"<active xmlns='http://jabber.org/protocol/chatstates'/></message>")
    await settle()
    assert seen == ["said"]
    assert h.admission.chat_states == 50
    assert (h.budget.refused, h.budget.dropped, h.budget.senders) == (0, 0, 0)


async def test_presence_is_state_only_the_newest_waits() -> None:
    h = Harness()
    ran: list[str] = []
    gate = asyncio.Event()

    async def handle(pres: Any) -> None:
        ran.append(pres["id"])
        await gate.wait()

    for n in range(50):
        pres = h.xmpp.make_presence(pfrom="romeo@agents.idchat.localhost/console", pto=COMPONENT)
        pres["id"] = f"p{n}"
        h.admission.latest("romeo@agents.idchat.localhost/console", handle, pres)
    await settle()
    assert ran == ["p0"] and len(h.admission.tasks) == 1
    gate.set()
    await settle()
    assert ran == ["p0", "p49"]                          # the last one, not the 48 between
    assert h.admission.superseded == 48
    assert not h.admission.tasks


async def test_room_messages_past_the_rooms_budget_are_dropped_within_it_none_lost() -> None:
    h = Harness()
    noted: list[str] = []
    gate = asyncio.Event()
    room = "k7f@rooms.idchat.localhost"

    async def wrote(msg: str) -> None:
        noted.append(msg)
        await gate.wait()

    assert h.admission.message(room, "agent", wrote, "a0")
    runs = [h.admission.message(room, "citizen", wrote, f"c{i}") for i in range(100)]
    burst = LIMITS.room_burst - 1                        # the agent's took one
    assert runs.count(True) == burst and h.budget.dropped == 100 - burst
    await settle()
    # One at a time per room and side: the citizen's is not held up by the agent's.
    assert noted == ["a0", "c0"]
    gate.set()
    await settle()
    # The newest waiting message ran after the first; those between were superseded,
    # not dropped: only the rate drops room messages.
    assert noted == ["a0", "c0", f"c{burst - 1}"]
    assert h.admission.superseded == burst - 2
    assert h.budget.refused == 0                         # never answered
    assert not h.admission.tasks


async def test_close_cancels_running_handlers() -> None:
    h = Harness()
    h.claim(GUEST, 1)
    await settle()
    assert h.admission.tasks
    await h.admission.close()
    assert not h.admission.tasks and h.budget.in_flight == 0


async def test_one_table_routes_each_request_kind_and_leaves_the_rest_unhandled() -> None:
    """The request table finds a handler by (type, payload) on the raw element: a claim
    reaches the claim handler; the same payload as a 'get', another payload, or a reply
    does not (an unknown request is answered feature-not-implemented, as before)."""
    h = Harness()
    h.claim(GUEST, 1)
    await settle()
    assert h.started == ["c1"]
    h.feed(f"<iq xmlns='jabber:component:accept' type='get' id='g1' from='{GUEST}' "
           f"to='{COMPONENT}'><claim xmlns='{stanza.NS}' ticket='x'/></iq>")
    h.feed(f"<iq xmlns='jabber:component:accept' type='set' id='o1' from='{GUEST}' "
           f"to='{COMPONENT}'><other xmlns='{stanza.NS}'/></iq>")
    h.feed(f"<iq xmlns='jabber:component:accept' type='result' id='r1' from='{GUEST}' "
           f"to='{COMPONENT}'><claim xmlns='{stanza.NS}' ticket='x'/></iq>")
    await settle()
    assert h.started == ["c1"]
    assert {s["id"] for s in h.errors("feature-not-implemented")} == {"g1", "o1"}
    h.release.set()
    await settle()


def test_the_request_table_refuses_paths_it_cannot_route() -> None:
    h = Harness()
    for path in ("iq@type=set/idchat_claim",          # taken already
                 "iq@type=result/idchat_end",         # not a request
                 "iq@type=set/no_such_plugin",        # unknown payload
                 "message/idchat_claim"):
        with pytest.raises(ValueError):
            h.admission.iq("x", path, h.on_claim)
