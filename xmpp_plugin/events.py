"""What the HTTP service tells the component: the event kinds, each a typed record with
its encoding, and the Redis stream they travel on (its consumer group and its bound).

The HTTP service adds events inside its Lua scripts (session_deliver*.lua get the field
names and the bound from :func:`attributes_xadd_args`); the component instances read them
as one consumer group (component/gateway.py), each entry once, and delete it when handled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from .errors import MalformedEvent

STREAM = "events"     # the key's entity: Keys.events() is <prefix>:events
GROUP = "component"   # the component instances' one consumer group
MAXLEN = 10_000       # XADD MAXLEN ~: the bound while no component reads
TYPE = "type"         # the field that names an entry's kind


@dataclass(frozen=True)
class AttributesArrived:
    """Attributes reached a session after its chat began (docs/protocol.md §5); for an
    authentication during the chat (§11) with ``auth`` ('verified' or 'failed') and the
    attribute URL id ``attr`` it was for."""

    KIND: ClassVar[str] = "attributes"
    sid: str
    auth: str = ""
    attr: str = ""


Event = AttributesArrived  # one kind so far; a union of them when there are more
KINDS: dict[str, type[Event]] = {AttributesArrived.KIND: AttributesArrived}


def encode(event: Event) -> dict[str, str]:
    """The stream entry's fields (an empty optional field is left out)."""
    fields = {TYPE: event.KIND}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value or f.default is dataclasses.MISSING:
            fields[f.name] = value
    return fields


def decode(fields: dict[bytes, bytes]) -> Event:
    """An entry as read from the stream; MalformedEvent for an unknown kind, a missing
    field, or one that is not UTF-8. The detail names the kind and fields, never a value."""
    kind = fields.get(TYPE.encode(), b"").decode("utf-8", "replace")
    cls = KINDS.get(kind)  # its name is not echoed: whatever an unknown entry holds stays out of logs
    if cls is None:
        raise MalformedEvent("event of an unknown kind")
    values: dict[str, str] = {}
    for f in dataclasses.fields(cls):
        raw = fields.get(f.name.encode())
        if raw is None:
            if f.default is dataclasses.MISSING:
                raise MalformedEvent(f"{kind} event without {f.name}")
            continue
        try:
            values[f.name] = raw.decode()
        except UnicodeDecodeError as exc:
            raise MalformedEvent(f"{kind} event with a {f.name} that is not UTF-8") from exc
    return cls(**values)


def attributes_xadd_args(*, in_chat: bool) -> list[str | int]:
    """What session_deliver.lua (``in_chat`` False) and session_deliver_in_chat.lua add an
    AttributesArrived with: the bound (MAXLEN ~), the type field and the kind, then the
    names of the fields sid and, for an authentication during the chat, auth and attr."""
    names = [f.name for f in dataclasses.fields(AttributesArrived)]
    return [MAXLEN, TYPE, AttributesArrived.KIND, *(names if in_chat else names[:1])]
