"""What the component sees as owner of each room: citizens coming and going, and writing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import JID, Message, Presence
from slixmpp.xmlstream.handler import Callback

from ..admission import Shape
from ..chats import CITIZEN_NICK
from ..rooms import OWN_NICK

if TYPE_CHECKING:
    from ..gateway import Gateway


class RoomHandlers:
    """Room events come from the MUC service but are caused by the people in the room:
    the Redis work they cause has a budget per room (component/admission.py)."""

    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.register_handler(Callback("idchat room message", Shape("message", ("groupchat",)),
                                     self.on_groupchat))  # type: ignore[arg-type]

    def on_presence(self, pres: Presence) -> None:
        """Occupant presence (XEP-0045 §7.2.3); we see real JIDs as the room's owner. The
        newest presence of each occupant wins: a join and a leave are state, not events."""
        real = pres["muc"]["jid"]
        if not real:
            return
        cid = pres["from"].user
        present = pres["type"] not in ("unavailable", "error")
        if real.bare != self.gw.boundjid.bare:
            if present or cid in self.gw.chats.rooms.known:
                self.gw.chats.rooms.saw(cid, real, present)  # a leave never adds a room
        elif not present:
            self.gw.chats.rooms.known.pop(cid, None)  # destroyed (by another instance, say)
        if pres["from"].resource != CITIZEN_NICK or pres["type"] == "error":
            return
        self.gw.admission.latest(f"{pres['from'].bare} {JID(real).full}", self._presence, pres)

    async def _presence(self, pres: Presence) -> None:
        cid, real = pres["from"].user, JID(pres["muc"]["jid"])
        if pres["type"] == "unavailable":
            await self.gw.chats.citizen_left_room(cid, real)
        else:
            await self.gw.chats.citizen_joined_room(cid, real)

    def on_groupchat(self, msg: Message) -> None:
        """Only activity is noted (once a minute per side), so messages past the room's
        budget are left alone: they still reach the others through the room."""
        if msg["from"].domain != self.gw.settings.xmpp.muc_domain or not msg["body"]:
            return
        nick, room = msg["from"].resource, msg["from"].bare
        if nick == CITIZEN_NICK:
            self.gw.admission.message(room, "citizen", self._citizen_wrote, msg)
        elif nick and nick != OWN_NICK:
            self.gw.admission.message(room, "agent", self._agent_wrote, msg)

    async def _citizen_wrote(self, msg: Message) -> None:
        await self.gw.chats.citizen_wrote(msg["from"].user)

    async def _agent_wrote(self, msg: Message) -> None:
        await self.gw.chats.activity(msg["from"].user, citizen=False)
