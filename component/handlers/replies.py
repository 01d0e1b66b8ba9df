"""§3a canned replies: an agent asks for the topics file's replies (agents only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import Iq

from ..protocol.stanza import Reply
from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway


class ReplyHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.admission.iq("replies", "iq@type=get/idchat_replies", self.on_replies)

    @replies_errors
    async def on_replies(self, iq: Iq) -> None:
        """Every reply in every language (the console shows its own language first); the
        texts keep their {agent} and {topic} placeholders for the console to fill."""
        self.gw.chats.require_agent(iq["from"])
        reply = iq.reply(clear=True)
        el = reply["idchat_replies"]
        for canned in self.gw.settings.topics.catalogue().replies:
            item = Reply()
            item["key"], item["lang"], item["text"] = canned.key, canned.lang, canned.text
            if canned.purpose:
                item["purpose"] = canned.purpose
            el.append(item)
        reply.send()
