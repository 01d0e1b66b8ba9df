"""The events the HTTP service sends the component (xmpp_plugin/events.py): each kind
round-trips through its stream encoding; an unknown or malformed entry is refused with
MalformedEvent, naming no value; the Lua writers get their field names from the module."""

from __future__ import annotations

import dataclasses

import pytest

from xmpp_plugin import events, lua
from xmpp_plugin.errors import MalformedEvent
from xmpp_plugin.store import Keys

SID = "sid-Zm9vYmFy"


def as_read(fields: dict[str, str]) -> dict[bytes, bytes]:
    """Fields as redis-py returns them from XREADGROUP."""
    return {k.encode(): v.encode() for k, v in fields.items()}


@pytest.mark.parametrize("event", [
    events.AttributesArrived(SID),
    events.AttributesArrived(SID, auth="verified", attr="at-1"),
    events.AttributesArrived(SID, auth="failed", attr="at-2"),
], ids=["late", "in-chat-verified", "in-chat-failed"])
def test_every_kind_round_trips(event: events.Event) -> None:
    fields = events.encode(event)
    assert fields[events.TYPE] == event.KIND
    assert events.decode(as_read(fields)) == event


def test_every_kind_is_registered_under_its_name() -> None:
    assert events.KINDS == {cls.KIND: cls for cls in events.KINDS.values()}
    assert events.KINDS["attributes"] is events.AttributesArrived


def test_the_late_attributes_event_is_the_entry_the_lua_writes() -> None:
    # session_deliver.lua writes: type attributes sid <sid> (no auth, no attr).
    assert events.encode(events.AttributesArrived(SID)) == {"type": "attributes", "sid": SID}
    assert events.decode({b"type": b"attributes", b"sid": SID.encode()}) == \
        events.AttributesArrived(SID, "", "")


@pytest.mark.parametrize("fields, detail", [
    ({b"type": b"gossip", b"sid": SID.encode()}, "event of an unknown kind"),
    ({b"sid": SID.encode()}, "event of an unknown kind"),
    ({b"type": b"attributes", b"auth": b"verified"}, "attributes event without sid"),
    ({b"type": b"attributes", b"sid": b"\xff\xfe"}, "attributes event with a sid that is not UTF-8"),
], ids=["unknown-kind", "no-kind", "no-sid", "not-utf8"])
def test_a_malformed_entry_is_refused_by_name(fields: dict[bytes, bytes], detail: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        events.decode(fields)
    assert detail in info.value.detail
    assert SID not in info.value.detail and "gossip" not in info.value.detail
    assert info.value.status == 400


def test_the_lua_writers_get_names_and_bound_from_the_module() -> None:
    names = [f.name for f in dataclasses.fields(events.AttributesArrived)]
    assert events.attributes_xadd_args(in_chat=False) == [events.MAXLEN, "type", "attributes", "sid"]
    assert events.attributes_xadd_args(in_chat=True) == [events.MAXLEN, "type", "attributes", *names]
    assert names == ["sid", "auth", "attr"]
    for name in ("session_deliver", "session_deliver_in_chat"):
        source = lua.source(name)
        xadd = source[source.index("redis.call('XADD'"):]
        assert "'10000'" not in xadd and "'attributes'" not in xadd and "'sid'" not in xadd
        assert "'MAXLEN', '~', ARGV[7], '*', ARGV[8], ARGV[9], ARGV[10], ARGV[1]" in xadd


def test_the_stream_key_is_named_by_the_module() -> None:
    assert Keys("idchat").events() == f"idchat:{events.STREAM}" == "idchat:events"
