"""§6 end: the agent (naming the chat) or the citizen (their own chat) ends it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import Iq

from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway


class EndHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.admission.iq("end", "iq@type=set/idchat_end", self.on_end)

    @replies_errors
    async def on_end(self, iq: Iq) -> None:
        sender = iq["from"]
        if self.gw.chats.is_guest(sender):
            await self.gw.chats.end_by_citizen(sender)
        else:
            await self.gw.chats.end_by_agent(sender, iq["idchat_end"]["chat"])
        iq.reply(clear=True).send()
