"""§1 claim: a citizen redeems the page's ticket before joining the room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import Iq
from slixmpp.xmlstream.handler import CoroutineCallback
from slixmpp.xmlstream.matcher import StanzaPath

from ..chats import CITIZEN_NICK
from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway


class ClaimHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.register_handler(CoroutineCallback(
            "idchat claim", StanzaPath("iq@type=set/idchat_claim"), self.on_claim))

    @replies_errors
    async def on_claim(self, iq: Iq) -> None:
        chat, position, interrupted = await self.gw.chats.claim(iq["from"], iq["idchat_claim"]["ticket"])
        reply = iq.reply(clear=True)
        el = reply["idchat_claimed"]
        el["chat"], el["room"] = chat.id, f"{chat.id}@{self.gw.settings.xmpp.muc_domain}"
        el["nick"], el["purpose"], el["state"] = CITIZEN_NICK, chat.purpose, \
            "assigned" if chat.state == "assigned" else "queued"
        if position is not None:
            el["position"] = str(position)
            wait = await self.gw.chats.expected_wait(position)
            if wait is not None:
                el["wait"] = str(int(wait))
        reply.send()
        await self.gw.chats.after_claim(chat, position, interrupted)
