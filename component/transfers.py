"""Handing an open chat on (docs/protocol.md §12): to a named colleague on duty, or to the
front of a topic's queue, with an optional internal note that only agents see.

To a colleague the chat is *offered*, as any chat (accept, decline, timeout), and stays
with its agent until the colleague accepts: the citizen is never left without someone.
On accept the colleague gets the attributes and the note, joins the room and reads its
history; the agent who handed it on loses the membership (and with it the room and the
attributes). To a queue the chat leaves its agent at once and waits at the front.

Every step is one Lua script on the chat's record, like the rest of routing
(component/routing.py): a transfer offer counts against the colleague's capacity as a
pending offer, sits in the ``transfers`` index until it is answered or runs out, and an
end of the chat (``xmpp_plugin/lua/routing_release.lua``) withdraws it with everything else.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING

from slixmpp import JID
from slixmpp.jid import InvalidJID

from xmpp_plugin import faults, lua
from xmpp_plugin.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RecipientUnavailable,
    Unavailable,
)

from . import audit
from .routing import FRONT, Chat, OfferMade, _now_ms

if TYPE_CHECKING:
    from .chats import Chats

log = logging.getLogger(__name__)

NOTE_MAX = 500          # characters of an internal note
MAX_COLLEAGUES = 200    # colleagues listed at most (bounded answer, bounded Redis work)

class Transfers:
    """Transfers of open chats; the component's instances share all state in Redis."""

    def __init__(self, chats: "Chats") -> None:
        self.chats = chats
        self.router = chats.router
        self.store = chats.store
        self.keys = chats.router.keys
        redis = chats.router.redis
        self._offer = lua.script(redis, "transfer_offer")
        self._take_over = lua.script(redis, "transfer_take_over")
        self._withdraw = lua.script(redis, "transfer_withdraw")
        self._to_queue = lua.script(redis, "transfer_to_queue")

    # -- who can take it ------------------------------------------------------------

    async def colleagues(self, agent: JID) -> list[tuple[str, str, int]]:
        """(bare JID, display name, free places) of the other agents on duty."""
        await self.chats.require_agent_role(agent)
        on_duty = sorted(await self.router.agents_on_duty())
        on_duty = [b for b in on_duty if b != agent.bare][:MAX_COLLEAGUES]
        out = []
        for bare, (nick, most, load, pending) in zip(on_duty, await self.router.agent_figures(on_duty)):
            out.append((bare, nick or bare.split("@")[0], max(0, most - load - pending)))
        return sorted(out, key=lambda c: c[1].lower())

    def purposes(self) -> set[str]:
        """The topics a chat can be handed to: those the console offers."""
        return set(self.chats.settings.topics.catalogue().purposes)

    # -- the agent hands it on ------------------------------------------------------

    async def to_colleague(self, agent: JID, cid: str, colleague: str, note: str) -> None:
        await self.chats.require_agent_role(agent)
        _check_note(note)
        try:
            to = JID(colleague)
        except InvalidJID as exc:
            raise InvalidRequest("agent must be a colleague's JID") from exc
        if not to.user or to.bare == agent.bare:
            raise InvalidRequest("agent must be another agent's bare JID")
        chat = await self._own_chat(agent, cid)
        oid = f"of-{secrets.token_hex(12)}"
        timeout_ms = self.router.offer_timeout_ms
        out = await self._offer(
            keys=[self.keys.chat(cid), self.keys.agent(to.bare), self.keys.transfers(),
                  self.keys.offer(oid), self.keys.agents(), self.keys.agent_load(),
                  self.keys.agent_pending()],
            args=[agent.bare, to.bare, oid, _now_ms() + timeout_ms, timeout_ms + 60000,
                  self.store.seal_note(cid, note), chat.agent_nick, cid])
        if isinstance(out, bytes):
            _refuse(out.decode())
        full = out[0].decode()
        made = OfferMade(chat=cid, agent=to.bare, agent_full=full, offer=oid,
                         purpose=chat.purpose, enqueued_ms=chat.enqueued_ms)
        waiting = max(0, int(time.time() - chat.enqueued_ms / 1000))
        self.chats.notify.transfer_offer(made, waiting, timeout_ms // 1000, chat.agent_nick)
        log.info("chat %s offered to a colleague", cid[:8])

    async def to_queue(self, agent: JID, cid: str, purpose: str, note: str) -> None:
        await self.chats.require_agent_role(agent)
        _check_note(note)
        if purpose not in self.purposes() and purpose not in await self.router.all_purposes():
            raise NotFound("no such topic")
        chat = await self._own_chat(agent, cid)
        out = await self._to_queue(
            keys=[self.keys.chat(cid), self.keys.declined(cid), self.keys.purposes(),
                  self.keys.agent_load()],
            args=[agent.bare, purpose, cid, self.keys.agent_chats(""),
                  self.keys.queue(""), FRONT, self.store.seal_note(cid, note), chat.agent_nick,
                  _now_ms(), self.router._declined_ttl()])
        _refuse(out.decode())
        await self._leave(chat, agent.bare, "queued", purpose=purpose)
        moved = await self.router.chat(cid)
        if moved is not None:
            if await self.router.told_off_duty(purpose):
                self.chats.notify.no_agent(moved)
            else:
                self.chats.notify.queued(moved, await self.router.position(cid, purpose),
                                         transferred=True)
        await self._audit(chat, to_purpose=purpose)
        await self.chats.dispatch()
        await self.chats._queue_moved(purpose)

    async def withdraw(self, agent: JID, cid: str) -> None:
        """The agent takes back a transfer still out to a colleague: the chat stays theirs."""
        await self.chats.require_agent_role(agent)
        chat = await self.router.chat(cid) if cid else None
        if chat is None or chat.state == "ending":
            raise NotFound("no such chat, or it has ended")
        if chat.state != "assigned" or chat.agent != agent.bare:
            raise Forbidden("this chat is not yours")
        out = await self._withdraw_one(cid, oid=chat.transfer_offer) if chat.transfer_to else None
        if out is None:  # none out, or the colleague answered (or it timed out) just now
            raise NotFound("no transfer of this chat is out")
        await self._revoke(out[0], out[1], "withdrawn")
        await self.chats.dispatch()  # the colleague has that place again

    async def _own_chat(self, agent: JID, cid: str) -> Chat:
        chat = await self.router.chat(cid) if cid else None
        if chat is None or chat.state == "ending":
            raise NotFound("no such chat, or it has ended")
        if chat.state != "assigned" or chat.agent != agent.bare:
            raise Forbidden("this chat is not yours")
        if chat.transfer_to:
            raise Conflict("this chat is already being handed to a colleague")
        return chat

    # -- the colleague answers -------------------------------------------------------

    async def is_offer(self, cid: str, oid: str) -> bool:
        return await self.router.transfer_offer(cid) == oid

    async def take_over(self, agent: JID, cid: str, oid: str) -> Chat:
        info = await self.router.agent_info(agent.bare)
        nick = info.get("nick") or agent.user
        old = await self._take_over(
            keys=[self.keys.chat(cid), self.keys.agent_load(), self.keys.agent_chats(agent.bare),
                  self.keys.transfers(), self.keys.offer(oid), self.keys.agent_pending(),
                  self.keys.agent_last()],
            args=[oid, agent.bare, agent.full, nick, _now_ms(), cid, self.keys.agent_chats("")])
        if not old:
            raise NotFound("no such offer for you: it was withdrawn or has timed out")
        faults.point("transfer.taken")
        chat = await self.router.chat(cid)
        if chat is None:
            raise NotFound("this chat has ended")
        # As on any accept: the details go to the new agent directly, then the room. The
        # previous agent is out of the room before the chat counts as ready: a crash in
        # between is completed by the sweeper (Chats._complete_accept), removal included.
        await self.chats.send_attributes(chat)
        await self.chats.rooms.admit(cid, agent.bare)
        await self._leave(chat, old.decode(), "accepted", agent_nick=nick)
        await self.router.update(cid, ready="1")
        self.chats.notify.assigned(chat, transferred=True)
        await self._audit(chat, previous=old.decode(), to_agent=agent.bare)
        await self.chats.dispatch()  # the previous agent has room for the next citizen
        log.info("chat %s taken over by a colleague", cid[:8])
        return chat

    async def decline(self, agent: JID, cid: str, oid: str) -> None:
        out = await self._withdraw_one(cid, oid=oid, colleague=agent.bare)
        if out is None:
            raise NotFound("no such offer for you: it was withdrawn or has timed out")
        await self._tell_sender(cid, out[2], "declined", out[0])
        await self.chats.dispatch()

    async def expire(self) -> None:
        """Transfer offers past their deadline go back to the sender (the sweeper's timer)."""
        due = await self.router.transfers_due()
        for cid in due:
            out = await self._withdraw_one(cid, deadline=True)
            if out is None:
                continue
            colleague, oid, sender = out
            await self._revoke(colleague, oid, "timeout")
            await self._tell_sender(cid, sender, "timeout", colleague)
        if due:
            await self.chats.dispatch()

    async def withdraw_offers_to(self, bare: str, reason: str | None) -> None:
        """The colleague went away (``reason`` 'unavailable': they hear a revoke) or offline
        (None): their transfer offers go back to the senders."""
        for cid in await self.router.transfers_out():
            out = await self._withdraw_one(cid, colleague=bare)
            if out is None:
                continue
            if reason:
                await self._revoke(bare, out[1], reason)
            await self._tell_sender(cid, out[2], "unavailable", bare)

    async def withdraw_offers_of(self, bare: str) -> None:
        """The sender's chats go back to the queue (connection lost too long): the
        colleagues' transfer offers for them are withdrawn."""
        for cid in await self.router.agent_chats(bare):
            chat = await self.router.chat(cid)
            if chat is None or not chat.transfer_to or chat.agent != bare:
                continue
            out = await self._withdraw_one(cid, oid=chat.transfer_offer)
            if out is not None:
                await self._revoke(out[0], out[1], "withdrawn")

    async def _withdraw_one(self, cid: str, *, oid: str = "", colleague: str = "",
                            deadline: bool = False) -> tuple[str, str, str] | None:
        out = await self._withdraw(
            keys=[self.keys.chat(cid), self.keys.transfers(), self.keys.agent_pending()],
            args=[oid, colleague, str(_now_ms()) if deadline else "", cid, self.keys.offer("")])
        if not out:
            return None
        colleague_jid, offer_id, sender = (v.decode() for v in out)
        return colleague_jid, offer_id, sender

    async def remove_previous(self, chat: Chat, taker: str) -> None:
        """Whoever takes a chat that was handed on: the agent who handed it on is out of its
        room (again: idempotent), in case a crash came between the hand-over and that."""
        if chat.handed_from and chat.handed_from != taker:
            try:
                await self.chats.rooms.remove(chat.id, chat.handed_from)
            except Unavailable:
                log.warning("chat %s: the previous agent's membership could not be removed", chat.id[:8])

    # -- telling people ---------------------------------------------------------------

    async def _leave(self, chat: Chat, previous: str, outcome: str, *, agent_nick: str = "",
                     purpose: str = "") -> None:
        """The agent who handed the chat on leaves its room, and hears how it went."""
        try:
            await self.chats.rooms.remove(chat.id, previous)
        except Unavailable:  # routing has moved on: the chat and its details are no longer theirs
            log.warning("chat %s: the previous agent's membership could not be removed", chat.id[:8])
        await self._tell_sender(chat.id, previous, outcome, "", nick=agent_nick, purpose=purpose)

    async def _tell_sender(self, cid: str, sender: str, outcome: str, colleague: str, *,
                           nick: str = "", purpose: str = "") -> None:
        info = await self.router.agent_info(sender) if sender else {}
        if not info.get("full"):
            return
        if colleague and not nick:
            nick = (await self.router.agent_info(colleague)).get("nick") or colleague.split("@")[0]
        self.chats.notify.transferred(JID(info["full"]), cid, outcome, agent=nick, purpose=purpose)

    async def _revoke(self, colleague: str, oid: str, reason: str) -> None:
        info = await self.router.agent_info(colleague)
        if info.get("full"):
            self.chats.notify.revoke(JID(info["full"]), oid, reason)

    async def _audit(self, chat: Chat, *, previous: str = "", to_agent: str = "",
                     to_purpose: str = "") -> None:
        """Who handed which chat to whom, with the attribute names the new agent gets."""
        try:
            stored = await self.store.attributes(chat.sid)
        except NotFound:
            stored = None
        # The names the next agent gets: what the (new) topic shows (topics file).
        shown = self.chats.settings.topics.catalogue().shown(to_purpose or chat.purpose,
                                                             stored.attributes) if stored else []
        audit.event("chat-transferred", sid=chat.sid, chat=chat.id, agent=previous or chat.agent,
                    names=[name for name, _ in shown],
                    to_agent=to_agent, to_purpose=to_purpose, from_purpose=chat.purpose)

    def note_of(self, chat: Chat) -> tuple[str, str]:
        """(who handed the chat on, their note) for the card of the agent who has it now."""
        return chat.transferred_by, self.store.open_note(chat.id, chat.transfer_note)


def _check_note(note: str) -> None:
    if len(note) > NOTE_MAX:
        raise InvalidRequest(f"the note may be at most {NOTE_MAX} characters")


def _refuse(verdict: str) -> None:
    if verdict == "not-yours":
        raise Forbidden("this chat is not yours")
    if verdict == "pending":
        raise Conflict("this chat is already being handed to a colleague")
    if verdict == "unavailable":
        raise RecipientUnavailable("the colleague is not on duty or has no room for another chat")
