"""The session rooms on the MUC service: create, configure, admit, remove, destroy (XEP-0045)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from slixmpp import JID, ComponentXMPP
from slixmpp.exceptions import IqError, IqTimeout

from xmpp_plugin.errors import Unavailable

log = logging.getLogger(__name__)

ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"
# XEP-0045 §10.2: members-only, hidden, temporary, real JIDs for moderators only, no history.
PRIVATE_ROOM: dict[str, Any] = {
    "muc#roomconfig_membersonly": True,
    "muc#roomconfig_publicroom": False,
    "muc#roomconfig_persistentroom": False,
    "muc#roomconfig_whois": "moderators",
    "muc#roomconfig_historylength": "0",
    "muc#roomconfig_defaulthistorymessages": "0",
    "muc#roomconfig_enablelogging": False,
    "mam": False,
    "muc#roomconfig_changesubject": False,
    "muc#roomconfig_allowinvites": False,
    "muc#roomconfig_allowpm": "none",
}
OWN_NICK = "ID Chat"
TIMEOUT = 5.0


def new_chat_id() -> str:
    """Room local part: 128 random bits, lower-case (JID node-safe)."""
    return secrets.token_hex(16)


class Rooms:
    def __init__(self, xmpp: ComponentXMPP, muc_domain: str) -> None:
        self.xmpp = xmpp
        self.muc_domain = muc_domain
        self.me = JID(f"{xmpp.boundjid.bare}/rooms")
        self._muc = xmpp.plugin["xep_0045"]

    def jid(self, cid: str) -> JID:
        return JID(f"{cid}@{self.muc_domain}")

    async def create(self, cid: str) -> JID:
        """Create (join, which makes it locked) and configure before anyone else may enter."""
        room = self.jid(cid)
        try:
            await self._join(room)
            offered = (await self._muc.get_room_config(room, ifrom=self.me, timeout=TIMEOUT)).get_values()
            form = self.xmpp.plugin["xep_0004"].make_form(ftype="submit")
            form.add_field(var="FORM_TYPE", ftype="hidden", value=ROOMCONFIG)
            for var, value in PRIVATE_ROOM.items():
                if var in offered:
                    form.add_field(var=var, value=value)
            await self._muc.set_room_config(room, form, ifrom=self.me, timeout=TIMEOUT)
        except (IqError, IqTimeout, asyncio.TimeoutError) as exc:
            raise Unavailable("the chat room could not be created") from exc
        return room

    async def _join(self, room: JID) -> None:
        # Prosody's refusals carry no muc#user payload, so slixmpp would only time out:
        # watch presence errors from the room ourselves.
        loop = asyncio.get_running_loop()
        refused: asyncio.Future[Any] = loop.create_future()

        def on_error(pres: Any) -> None:
            if pres["from"].bare == room.bare and not refused.done():
                refused.set_result(pres["error"]["condition"])

        self.xmpp.add_event_handler("presence_error", on_error)
        join = asyncio.ensure_future(self._muc.join_muc_wait(
            room, OWN_NICK, presence_options={"pfrom": self.me}, maxstanzas=0, timeout=TIMEOUT))
        try:
            await asyncio.wait({join, refused}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
            if refused.done():
                raise Unavailable(f"the MUC service refused the room ({refused.result()})")
            if not join.done():
                raise asyncio.TimeoutError()
            join.result()
        finally:
            self.xmpp.del_event_handler("presence_error", on_error)
            if not join.done():
                join.cancel()
                await asyncio.gather(join, return_exceptions=True)

    async def exists(self, cid: str) -> bool:
        try:
            await self.xmpp.plugin["xep_0030"].get_info(jid=self.jid(cid), ifrom=self.me,
                                                         timeout=TIMEOUT)
            return True
        except IqError:
            return False
        except IqTimeout as exc:
            raise Unavailable("the MUC service does not answer") from exc

    async def admit(self, cid: str, jid: str) -> None:
        await self._affiliation(cid, jid, "member")

    async def remove(self, cid: str, jid: str, nick: str | None = None) -> None:
        """Take membership away (XEP-0045 §9.4); a member who is in the room is kicked out."""
        await self._affiliation(cid, jid, "none")

    async def _affiliation(self, cid: str, jid: str, affiliation: str) -> None:
        try:
            await self._muc.set_affiliation(self.jid(cid), affiliation, jid=JID(jid),
                                            ifrom=self.me, timeout=TIMEOUT)
        except (IqError, IqTimeout) as exc:
            raise Unavailable("the chat room membership could not be changed") from exc

    async def destroy(self, cid: str) -> None:
        try:
            await self._muc.destroy(self.jid(cid), reason="", ifrom=self.me, timeout=TIMEOUT)
        except IqError:
            pass  # already gone (server restart, or another instance destroyed it)
        except IqTimeout:
            log.warning("room %s: no answer to destroy", cid[:8])
