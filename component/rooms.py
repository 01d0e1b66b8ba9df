"""The session rooms on the MUC service: create, configure, admit, remove, destroy (XEP-0045)."""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
from typing import Any, Literal
from xml.etree import ElementTree as ET

from slixmpp import JID, ComponentXMPP
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins.xep_0045.stanza import MUCOwnerQuery

from xmpp_plugin.errors import Unavailable

from .stateless import MUC_PLUGIN, Muc

log = logging.getLogger(__name__)

ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"
# XEP-0045 §10.2: members-only, hidden, temporary, real JIDs for moderators only, a short
# in-memory history (what the citizen typed while waiting reaches the agent), no logging.
PRIVATE_ROOM: dict[str, Any] = {
    "muc#roomconfig_membersonly": True,
    "muc#roomconfig_publicroom": False,
    "muc#roomconfig_persistentroom": False,
    "muc#roomconfig_whois": "moderators",
    "muc#roomconfig_historylength": "50",
    "muc#roomconfig_defaulthistorymessages": "50",
    "muc#roomconfig_enablelogging": False,
    "mam": False,
    "muc#roomconfig_changesubject": False,
    "muc#roomconfig_allowinvites": False,
    "muc#roomconfig_allowpm": "none",
}
OWN_NICK = "ID Chat"
TIMEOUT = 5.0
# ejabberd 23.01 starts a room's process on the creating presence, and answers a request
# that comes before the room is registered with item-not-found ("Conference room does not
# exist"). Worse, a request that reaches the new room before the creating presence does
# ends it: an owner request (the config form) even creates the room itself, and a
# temporary room with nobody in it closes after any request ("Destroyed MUC room ...
# because it's temporary and empty"); the request after it (the member) then gets
# item-not-found, or no answer at all when it was already in the closing room's queue.
# About one room in a thousand, more under load. So each new attempt sends the creating
# presence again and configures after these pauses; a timeout is retried too, with a
# shorter wait per attempt (a live room answers in milliseconds).
NOT_YET_RETRIES = (0.02, 0.05, 0.1, 0.2, 0.4)
CREATE_TIMEOUTS = 2  # attempts that may time out, each waiting TIMEOUT / CREATE_TIMEOUTS
EXISTS_ATTEMPTS = 3
MAX_TITLES = 1000  # room forms kept (one per topic label; the topics file has a handful)


def new_chat_id() -> str:
    """Room local part: 128 random bits, lower-case (JID node-safe)."""
    return secrets.token_hex(16)


class Rooms:
    def __init__(self, xmpp: ComponentXMPP, muc_domain: str) -> None:
        self.xmpp = xmpp
        self.muc_domain = muc_domain
        self.me = JID(f"{xmpp.boundjid.bare}/rooms")
        self._muc: Muc = xmpp.plugin[MUC_PLUGIN]  # type: ignore[literal-required]  # ours
        self._offered: set[str] | None = None  # config fields the MUC service offers
        self._config_queries: dict[str, ET.Element] = {}  # title -> the owner query to copy
        # The rooms this instance created or hears from, with the real JIDs of the people
        # in them: what it can still clean up, and whom it can still tell, when Redis
        # lost the chats' records. Bounded by the live rooms: destroy forgets a room.
        self.known: dict[str, tuple[float, set[str]]] = {}

    def jid(self, cid: str) -> JID:
        return JID(f"{cid}@{self.muc_domain}")

    async def create(self, cid: str, title: str = "", member: str = "") -> JID:
        """Create the room (locked: XEP-0045 §10.1.2) and configure it before anyone may enter.

        The join presence is not waited for: with several component connections the
        server may deliver our own presence to another instance. A refused creation
        shows as an error on the config request; a room ejabberd lost on the way (see
        NOT_YET_RETRIES) is created again.
        """
        room = self.jid(cid)
        self.known.setdefault(cid, (time.monotonic(), set()))
        timeouts = 0
        try:
            for attempt in range(len(NOT_YET_RETRIES) + 1):
                last = attempt == len(NOT_YET_RETRIES)
                self._join(room)
                if attempt:
                    await asyncio.sleep(NOT_YET_RETRIES[attempt - 1])  # the presence first
                try:
                    await self._configure(room, title, member, TIMEOUT / CREATE_TIMEOUTS)
                    break
                except IqError as exc:
                    if exc.condition != "item-not-found" or last:
                        raise
                    log.info("room %s not there (any more); creating it again", cid[:8])
                except IqTimeout:
                    timeouts += 1
                    if timeouts == CREATE_TIMEOUTS or last:
                        raise
                    log.info("room %s: no answer; creating it again", cid[:8])
        except IqError as exc:
            await self.destroy(cid)
            raise Unavailable(f"the MUC service refused the room ({exc.condition})") from exc
        except IqTimeout as exc:
            await self.destroy(cid)
            raise Unavailable("the MUC service does not answer") from exc
        return room

    def _join(self, room: JID) -> None:
        """The creating presence; sent again to a room that exists, it changes nothing."""
        join = self.xmpp.make_presence(pto=JID(f"{room.bare}/{OWN_NICK}"), pfrom=self.me)
        join.append(ET.Element("{http://jabber.org/protocol/muc}x"))
        join.send()

    async def _configure(self, room: JID, title: str, member: str, timeout: float) -> None:
        if self._offered is None:  # the service's form is the same for every room
            form = await self._muc.get_room_config(room, ifrom=self.me, timeout=timeout)
            self._offered = set(form.get_values())
        iq = self.xmpp.make_iq_set(ito=room, ifrom=self.me)
        iq.append(copy.deepcopy(self._config_query(title)))
        # Sent back to back: the server applies them in order (config, then member).
        steps = [iq.send(timeout=timeout)]
        if member:
            steps.append(self._muc.set_affiliation(room, "member", jid=JID(member),
                                                   ifrom=self.me, timeout=timeout))
        for outcome in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    def _config_query(self, title: str) -> ET.Element:
        """The owner query with the submitted room form (XEP-0045 §10.2), made once per
        title (a topic's label) and copied for each room: building a form field by field
        cost a room more CPU than sending it."""
        query = self._config_queries.get(title)
        if query is None:
            form = self.xmpp.plugin["xep_0004"].make_form(ftype="submit")
            form.add_field(var="FORM_TYPE", ftype="hidden", value=ROOMCONFIG)
            for var, value in {**PRIVATE_ROOM, "muc#roomconfig_roomname": title}.items():
                if self._offered is not None and var in self._offered:
                    form.add_field(var=var, value=value)
            owner = MUCOwnerQuery()
            owner.append(form)
            query = owner.xml
            if len(self._config_queries) < MAX_TITLES:
                self._config_queries[title] = query
        return query

    async def exists(self, cid: str) -> bool:
        """Whether the MUC service holds the room. ejabberd now and then leaves a request to
        a room that is being destroyed unanswered (it reached the room's process as that
        ended): asked again, it answers item-not-found."""
        for attempt in range(EXISTS_ATTEMPTS):
            try:
                await self.xmpp.plugin["xep_0030"].get_info(jid=self.jid(cid), ifrom=self.me,
                                                             timeout=TIMEOUT / EXISTS_ATTEMPTS)
                return True
            except IqError:
                return False
            except IqTimeout as exc:
                if attempt == EXISTS_ATTEMPTS - 1:
                    raise Unavailable("the MUC service does not answer") from exc
        return False  # not reached

    async def admit(self, cid: str, jid: str) -> None:
        await self._affiliation(cid, jid, "member")

    async def remove(self, cid: str, jid: str, nick: str | None = None) -> None:
        """Take membership away (XEP-0045 §9.4); a member who is in the room is kicked out."""
        await self._affiliation(cid, jid, "none")

    async def _affiliation(self, cid: str, jid: str, affiliation: Literal["member", "none"]) -> None:
        try:
            await self._muc.set_affiliation(self.jid(cid), affiliation, jid=JID(jid),
                                            ifrom=self.me, timeout=TIMEOUT)
        except (IqError, IqTimeout) as exc:
            raise Unavailable("the chat room membership could not be changed") from exc

    def saw(self, cid: str, real: JID, present: bool) -> None:
        """An occupant's presence in one of our rooms (we see real JIDs as its owner)."""
        people = self.known.setdefault(cid, (time.monotonic(), set()))[1]
        if present:
            people.add(real.full)
        else:
            people.discard(real.full)

    def people_in(self, cid: str) -> set[str]:
        entry = self.known.get(cid)
        return set(entry[1]) if entry else set()

    def older_than(self, seconds: float) -> list[str]:
        cutoff = time.monotonic() - seconds
        return [cid for cid, (since, _) in self.known.items() if since < cutoff]

    async def destroy(self, cid: str) -> None:
        self.known.pop(cid, None)
        try:
            await self._muc.destroy(self.jid(cid), reason="", ifrom=self.me, timeout=TIMEOUT)
        except IqError:
            pass  # already gone (server restart, or another instance destroyed it)
        except IqTimeout:
            log.warning("room %s: no answer to destroy", cid[:8])
