"""§1 claim: a citizen redeems the page's ticket before joining the room."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from slixmpp import Iq

from .. import metrics
from ..chats import CITIZEN_NICK, TopicClosed
from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway


class ClaimHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        gw.admission.iq("claim", "iq@type=set/idchat_claim", self.on_claim)

    @replies_errors
    async def on_claim(self, iq: Iq) -> None:
        started = time.perf_counter()
        try:
            chat, position, interrupted, told, dispatched = await self.gw.chats.claim(
                iq["from"], iq["idchat_claim"]["ticket"])
        except TopicClosed as closed:
            self._closed(iq, closed)
            return
        reply = iq.reply(clear=True)
        el = reply["idchat_claimed"]
        el["chat"], el["room"] = chat.id, f"{chat.id}@{self.gw.settings.xmpp.muc_domain}"
        no_agent = None
        if chat.state == "assigned":
            state = "assigned"
        elif no_agent := told:
            state = "no-agent"  # the alternative follows at once in a status (§2)
        else:
            state = "queued"
        el["nick"], el["purpose"], el["state"] = CITIZEN_NICK, chat.purpose, state
        if position is not None:
            el["position"] = str(position)
            wait = await self.gw.chats.expected_wait(position)
            if wait is not None:
                el["wait"] = str(int(wait))
        reply.send()
        metrics.SETUP.observe(time.perf_counter() - started)
        await self.gw.chats.after_claim(chat, position, interrupted, no_agent, dispatched)

    def _closed(self, iq: Iq, closed: TopicClosed) -> None:
        """§1 outside opening hours: when the topic opens again, and the alternative."""
        reply = iq.reply(clear=True)
        el = reply["idchat_closed"]
        el["purpose"] = closed.purpose
        if closed.opens is not None:
            el["opens"] = closed.opens.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.gw.notifier.add_alternatives(el, closed.purpose)
        reply.send()
