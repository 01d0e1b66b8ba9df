"""§11 authentication during the chat: the agent asks which methods, asks the citizen to
log in; the citizen refuses or the agent withdraws."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slixmpp import Iq

from ..protocol.stanza import AuthMethod
from ..xmpp_errors import replies_errors

if TYPE_CHECKING:
    from ..gateway import Gateway


class AuthHandlers:
    def __init__(self, gw: "Gateway") -> None:
        self.gw = gw
        for name, path, handler in (
                ("auth methods", "iq@type=get/idchat_auth_methods", self.on_methods),
                ("authenticate", "iq@type=set/idchat_authenticate", self.on_authenticate),
                ("auth cancel", "iq@type=set/idchat_auth_cancel", self.on_cancel)):
            gw.admission.iq(name, path, handler)

    @replies_errors
    async def on_methods(self, iq: Iq) -> None:
        chat, methods = await self.gw.chats.auth_methods(iq["from"], iq["idchat_auth_methods"]["chat"])
        reply = iq.reply(clear=True)
        el = reply["idchat_auth_methods"]
        el["chat"] = chat.id
        for tag in methods:
            item = AuthMethod()
            item["tag"] = tag
            el.append(item)
        reply.send()

    @replies_errors
    async def on_authenticate(self, iq: Iq) -> None:
        req = iq["idchat_authenticate"]
        chat = await self.gw.chats.request_auth(iq["from"], req["chat"], req["method"])
        reply = iq.reply(clear=True)
        reply["idchat_authenticate"]["chat"] = chat.id
        reply["idchat_authenticate"]["method"] = req["method"]
        reply.send()

    @replies_errors
    async def on_cancel(self, iq: Iq) -> None:
        await self.gw.chats.cancel_auth(iq["from"], iq["idchat_auth_cancel"]["chat"])
        iq.reply(clear=True).send()
