"""What the component sees as owner of each room: citizens coming and going, and writing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import JID, Message, Presence

from ..chats import CITIZEN_NICK
from ..rooms import OWN_NICK

if TYPE_CHECKING:
    from ..gateway import Gateway


class RoomHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.add_event_handler("groupchat_message", self.on_groupchat)

    async def on_presence(self, pres: Presence) -> None:
        """Occupant presence (XEP-0045 §7.2.3); we see real JIDs as the room's owner."""
        real = pres["muc"]["jid"]
        if not real:
            return
        cid = pres["from"].user
        present = pres["type"] not in ("unavailable", "error")
        if real.bare != self.gw.boundjid.bare:
            self.gw.chats.rooms.saw(cid, real, present)
        elif not present:
            self.gw.chats.rooms.known.pop(cid, None)  # destroyed (by another instance, say)
        if pres["from"].resource != CITIZEN_NICK:
            return
        if pres["type"] == "unavailable":
            await self.gw.chats.citizen_left_room(cid, JID(real))
        elif pres["type"] != "error":
            await self.gw.chats.citizen_joined_room(cid, JID(real))

    async def on_groupchat(self, msg: Message) -> None:
        if msg["from"].domain != self.gw.settings.xmpp.muc_domain or not msg["body"]:
            return
        if msg["from"].resource == CITIZEN_NICK:
            await self.gw.chats.citizen_wrote(msg["from"].user)
        elif msg["from"].resource and msg["from"].resource != OWN_NICK:
            await self.gw.chats.activity(msg["from"].user, citizen=False)  # the agent wrote
