"""Room creation against a MUC service that is slow to register a new room (ejabberd
answers item-not-found until the room's process is up): asked again, never given up
on at once, and never retried for a real refusal."""

from __future__ import annotations

from typing import Any

import pytest
from slixmpp import JID, Iq
from slixmpp.exceptions import IqError
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
    """Fails the first ``failures`` requests with ``condition``."""

    def __init__(self, failures: int, condition: str = "item-not-found") -> None:
        self.failures, self.condition = failures, condition
        self.calls: list[str] = []
        self.sent: list[Any] = []

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if self.failures > 0:
            self.failures -= 1
            raise refusal(self.condition)

    async def get_room_config(self, room: JID, **_: Any) -> Form:
        self._step("get")
        form = Form()
        form.add_field(var="muc#roomconfig_membersonly", value=True)
        form.add_field(var="muc#roomconfig_roomname", value="")
        return form

    async def set_room_config(self, room: JID, form: Form, **_: Any) -> None:
        self._step("config")

    async def set_affiliation(self, room: JID, affiliation: str, **_: Any) -> None:
        self._step("member")

    async def destroy(self, room: JID, **_: Any) -> None:
        self.calls.append("destroy")


class FakePresence:
    def append(self, el: Any) -> None:
        pass

    def send(self) -> None:
        pass


class FakeIq:
    """The room form's request: what is appended is what would be sent."""

    def __init__(self, muc: FakeMuc) -> None:
        self.muc, self.payload = muc, []

    def append(self, el: Any) -> None:
        self.payload.append(el)

    async def send(self, **_: Any) -> None:
        self.muc.sent.extend(self.payload)
        self.muc._step("config")


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
        return FakePresence()


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rooms_module, "NOT_YET_RETRIES", (0.0,) * 5)


async def test_a_room_not_there_yet_is_asked_again() -> None:
    muc = FakeMuc(failures=4)   # four rounds refused at their first request
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    room = await rooms.create("c1", "Verhuizing", member="guest@guest.example")
    assert room == JID("c1@rooms.example")
    assert muc.calls == ["get"] * 5 + ["config", "member"]
    assert "c1" in rooms.known


async def test_a_room_that_never_comes_is_given_up_and_destroyed() -> None:
    muc = FakeMuc(failures=100)
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="item-not-found"):
        await rooms.create("c2", "Verhuizing", member="guest@guest.example")
    assert muc.calls == ["get"] * 6 + ["destroy"]  # the first try and five more
    assert "c2" not in rooms.known


async def test_a_real_refusal_is_not_retried() -> None:
    muc = FakeMuc(failures=1, condition="forbidden")
    rooms = Rooms(FakeXmpp(muc), "rooms.example")  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match="forbidden"):
        await rooms.create("c3", "Verhuizing", member="guest@guest.example")
    assert muc.calls == ["get", "destroy"]


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
