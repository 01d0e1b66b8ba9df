"""§12 transfer: an agent hands an open chat to a colleague or to a topic's queue, and
asks which colleagues can take one now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import Iq

from xmpp_plugin.errors import InvalidRequest

from ..protocol.stanza import Colleague
from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway


class TransferHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.admission.iq("transfer", "iq@type=set/idchat_transfer", self.on_transfer)
        gw.admission.iq("colleagues", "iq@type=get/idchat_colleagues", self.on_colleagues)

    @replies_errors
    async def on_transfer(self, iq: Iq) -> None:
        el = iq["idchat_transfer"]
        agent, purpose = el["agent"], el["purpose"]
        transfers = self.gw.chats.transfers
        if el["withdraw"] == "true" and not agent and not purpose:
            await transfers.withdraw(iq["from"], el["chat"])
        elif bool(agent) == bool(purpose) or el["withdraw"]:
            raise InvalidRequest("name either a colleague (agent) or a topic (purpose)")
        elif agent:
            await transfers.to_colleague(iq["from"], el["chat"], agent, el["note"].strip())
        else:
            await transfers.to_queue(iq["from"], el["chat"], purpose, el["note"].strip())
        iq.reply(clear=True).send()

    @replies_errors
    async def on_colleagues(self, iq: Iq) -> None:
        found = await self.gw.chats.transfers.colleagues(iq["from"])
        reply = iq.reply(clear=True)
        listing = reply["idchat_colleagues"]
        for bare, nick, free in found:
            item = Colleague()
            item["jid"], item["nick"], item["free"] = bare, nick, str(free)
            listing.append(item)
        reply.send()
