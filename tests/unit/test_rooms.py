"""Room creation against a MUC service that is slow to register a new room (ejabberd
answers item-not-found until the room's process is up) or loses it on the way (a request
that overtakes the creating presence ends the new room: the next request gets
item-not-found or no answer): created again, never given up on at once, and never
retried for a real refusal."""

from __future__ import annotations

from typing import Any

import pytest
from slixmpp import JID, Iq
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins.xep_0004 import Form

from component import rooms as rooms_module
from component.rooms import Rooms
from component.stateless import MUC_PLUGIN
from xmpp_plugin.errors import Unavailable


def refusal(condition: str) -> IqError:
    iq = Iq()
    iq["type"] = "error"
    iq["error"]["condition"] = condition
    return IqError(iq)


class FakeMuc:
    """Fails the first ``failures`` requests with ``condition``; ``faults`` names, per
    request kind, what its next requests meet ("timeout" or a condition; "" answers)."""

    def __init__(self, failures: int, condition: str = "item-not-found",
                 faults: dict[str, list[str]] | None = None) -> None:
        self.failures, self.condition = failures, condition
        self.faults = faults or {}
        self.calls: list[str] = []
        self.sent: list[Any] = []
        self.timeouts: list[float] = []

    def _step(self, name: str, timeout: float) -> None:
        self.calls.append(name)
        self.timeouts.append(timeout)
        if self.failures > 0:
            self.failures -= 1
            raise refusal(self.condition)
        fault = self.faults.get(name, [""]).pop(0) if self.faults.get(name) else ""
        if fault == "timeout":
            raise IqTimeout(Iq())
        if fault:
            raise refusal(fault)

    async def get_room_config(self, room: JID, timeout: float, **_: Any) -> Form:
        self._step("get", timeout)
        form = Form()
        form.add_field(var="muc#roomconfig_membersonly", value=True)
        form.add_field(var="muc#roomconfig_roomname", value="")
        return form

    async def set_room_config(self, room: JID, form: Form, timeout: float, **_: Any) -> None:
        self._step("config", timeout)

    async def set_affiliation(self, room: JID, affiliation: str, timeout: float,
                              **_: Any) -> None:
        self._step("member", timeout)

    async def destroy(self, room: JID, **_: Any) -> None:
        self.calls.append("destroy")


class FakePresence:
    def __init__(self, muc: FakeMuc) -> None:
        self.muc = muc

    def append(self, el: Any) -> None:
        pass

    def send(self) -> None:
        self.muc.calls.append("join")


class FakeIq:
    """The room form's request: what is appended is what would be sent."""

    def __init__(self, muc: FakeMuc) -> None:
        self.muc, self.payload = muc, []

    def append(self, el: Any) -> None:
        self.payload.append(el)

    async def send(self, timeout: float, **_: Any) -> None:
        self.muc.sent.extend(self.payload)
        self.muc._step("config", timeout)


class FakeXmpp:
    def __init__(self, muc: FakeMuc) -> None:
        self.boundjid = JID("component.example")
        self.plugin = {MUC_PLUGIN: muc, "xep_0004": self}
        self.muc = muc

    def make_iq_set(self, **_: Any) -> FakeIq:
        return FakeIq(self.muc)

    def make_form(self, ftype: str) -> Form:
        form = Form()
        form["type"] = ftype
        return form

    def make_presence(self, **_: Any) -> FakePresence:
        return FakePresence(self.muc)


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rooms_module, "NOT_YET_RETRIES", (0.0,) * 5)


async def test_a_room_not_there_yet_is_asked_again() -> None:
    muc = FakeMuc(failures=4)   # four rounds refused at their first request
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    room = await rooms.create("c1", "Verhuizing", member="guest@guest.example")
    assert room == JID("c1@rooms.example")
    assert muc.calls == ["join", "get"] * 4 + ["join", "get", "config", "member"]
    assert "c1" in rooms.known


async def test_a_room_that_never_comes_is_given_up_and_destroyed() -> None:
    muc = FakeMuc(failures=100)
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="item-not-found"):
        await rooms.create("c2", "Verhuizing", member="guest@guest.example")
    assert muc.calls == ["join", "get"] * 6 + ["destroy"]  # the first try and five more
    assert "c2" not in rooms.known


async def test_a_real_refusal_is_not_retried() -> None:
    muc = FakeMuc(failures=1, condition="forbidden")
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="forbidden"):
        await rooms.create("c3", "Verhuizing", member="guest@guest.example")
    assert muc.calls == ["join", "get", "destroy"]


async def test_each_room_gets_its_own_copy_of_the_private_form() -> None:
    """The form is built once per title and copied per room: both rooms are sent the
    private settings the service offers and their own title, as separate elements."""
    muc = FakeMuc(failures=0)
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    await rooms.create("c1", "Verhuizing")
    await rooms.create("c2", "Verhuizing")
    await rooms.create("c3", "Paspoort")
    assert len(muc.sent) == 3 and muc.sent[0] is not muc.sent[1]

    def fields(query: Any) -> dict[str, str]:
        return {f.get("var"): "".join(v.text or "" for v in f.iter("{jabber:x:data}value"))
                for f in query.iter("{jabber:x:data}field")}
    first, third = fields(muc.sent[0]), fields(muc.sent[2])
    assert muc.sent[0].tag == "{http://jabber.org/protocol/muc#owner}query"
    assert first["muc#roomconfig_membersonly"] == "1"           # offered by the service
    assert "muc#roomconfig_publicroom" not in first             # not offered: not sent
    assert first["muc#roomconfig_roomname"] == "Verhuizing" == fields(muc.sent[1])["muc#roomconfig_roomname"]
    assert third["muc#roomconfig_roomname"] == "Paspoort"


async def test_a_room_lost_after_its_config_is_created_again() -> None:
    """What the ejabberd soak saw: the config answered, the member request after it
    unanswered (the room had closed), then item-not-found; each new attempt sends the
    creating presence again, and waits a share of TIMEOUT per attempt."""
    muc = FakeMuc(failures=0, faults={"member": ["timeout", "item-not-found"]})
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    room = await rooms.create("c4", "Verhuizing", member="guest@guest.example")
    assert room == JID("c4@rooms.example")
    assert muc.calls == ["join", "get", "config", "member",
                         "join", "config", "member", "join", "config", "member"]
    assert set(muc.timeouts) == {rooms_module.TIMEOUT / rooms_module.CREATE_TIMEOUTS}
    assert "c4" in rooms.known


async def test_a_service_that_never_answers_is_given_up_within_the_timeout() -> None:
    muc = FakeMuc(failures=0, faults={"config": ["timeout"] * 10})
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="does not answer"):
        await rooms.create("c5", "Verhuizing")
    # CREATE_TIMEOUTS attempts of TIMEOUT / CREATE_TIMEOUTS each: TIMEOUT in all.
    assert muc.calls == ["join", "get", "config", "join", "config", "destroy"]
    assert sum(muc.timeouts[1:]) == rooms_module.TIMEOUT
    assert "c5" not in rooms.known
