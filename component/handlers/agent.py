"""§3–§5 agents: availability presence, accept and decline, attributes on request."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slixmpp import Iq, Presence

from xmpp_plugin.errors import IdChatError, InvalidRequest

from ..notifier import fill_attributes
from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway

log = logging.getLogger(__name__)

NOT_AVAILABLE = {"away", "xa", "dnd"}
MAX_CHATS_LIMIT = 20


class AgentHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        for name, path, handler in (
                ("accept", "iq@type=set/idchat_accept", self.on_accept),
                ("decline", "iq@type=set/idchat_decline", self.on_decline),
                ("attributes", "iq@type=get/idchat_attributes", self.on_attributes)):
            gw.admission.iq(name, path, handler)

    def on_presence(self, pres: Presence) -> None:
        """Directed presence (routed here by the gateway): checked at once, without Redis;
        then handled one at a time per agent connection, the newest presence winning."""
        agent = pres["from"]
        if pres["type"] in ("unavailable", "error"):
            if self.gw.chats.is_agent(agent):
                self.gw.admission.latest(agent.full, self._offline, pres)
            return
        if pres["type"] not in ("available", *NOT_AVAILABLE, "chat"):
            return  # subscription management is not ours
        try:
            self.gw.chats.require_agent(agent)
            _max_chats(pres)
        except IdChatError as exc:
            self._refuse(pres, exc)
            return
        self.gw.admission.latest(agent.full, self._available, pres)

    async def _offline(self, pres: Presence) -> None:
        await self.gw.chats.agent_offline(pres["from"])

    async def _available(self, pres: Presence) -> None:
        available = pres["show"] not in NOT_AVAILABLE
        try:
            await self.gw.chats.agent_presence(pres["from"], available, _max_chats(pres),
                                               pres["nick"]["nick"] or "")
        except IdChatError as exc:
            self._refuse(pres, exc)

    def _refuse(self, pres: Presence, exc: IdChatError) -> None:
        err = self.gw.make_presence(pto=pres["from"], pfrom=self.gw.boundjid.bare, ptype="error")
        err["error"]["condition"], err["error"]["type"] = exc.condition, exc.xmpp_type
        err["error"]["text"] = exc.detail
        err.send()

    @replies_errors
    async def on_accept(self, iq: Iq) -> None:
        chat = await self.gw.chats.accept(iq["from"], iq["idchat_accept"]["offer"])
        reply = iq.reply(clear=True)
        reply["idchat_accepted"]["chat"] = chat.id
        reply["idchat_accepted"]["room"] = f"{chat.id}@{self.gw.settings.xmpp.muc_domain}"
        reply.send()

    @replies_errors
    async def on_decline(self, iq: Iq) -> None:
        await self.gw.chats.decline(iq["from"], iq["idchat_decline"]["offer"])
        iq.reply(clear=True).send()

    @replies_errors
    async def on_attributes(self, iq: Iq) -> None:
        chat, stored = await self.gw.chats.attributes_for(iq["from"], iq["idchat_attributes"]["chat"])
        reply = iq.reply(clear=True)
        fill_attributes(reply["idchat_attributes"], chat, stored,  # type: ignore[arg-type]
                        self.gw.settings)
        await self.gw.chats.answer_with_attributes(reply, chat, stored)


def _max_chats(pres: Presence) -> int:
    raw = pres["idchat_agent"]["max-chats"] or "1"
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidRequest("max-chats must be a whole number") from exc
    if not 1 <= value <= MAX_CHATS_LIMIT:
        raise InvalidRequest(f"max-chats must be between 1 and {MAX_CHATS_LIMIT}")
    return value
