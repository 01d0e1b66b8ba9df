"""The life of a chat: claim, queue, offer, accept, attributes, end (docs/protocol.md).

Handlers parse stanzas and call these methods; these methods change Redis through
the store and the router, the rooms through :class:`Rooms`, and tell people through
:class:`Notifier`. Identity checks use server-stamped JIDs only.
"""

from __future__ import annotations

import logging
import time

from slixmpp import JID

from xmpp_plugin.errors import Conflict, Forbidden, NotFound, Unauthorized
from xmpp_plugin.i18n import purpose_label
from xmpp_plugin.models import Session, session_ref
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import SessionStore

from . import audit
from .feedback import Feedback
from .notifier import Notifier
from .rooms import Rooms, new_chat_id
from .routing import Chat, Router

log = logging.getLogger(__name__)

CITIZEN_NICK = "Inwoner"


class Chats:
    def __init__(self, settings: Settings, store: SessionStore, router: Router, rooms: Rooms,
                 notifier: Notifier, feedback: Feedback) -> None:
        self.settings = settings
        self.store = store
        self.router = router
        self.rooms = rooms
        self.notify = notifier
        self.feedback = feedback

    # -- who is who ----------------------------------------------------------

    def is_guest(self, jid: JID) -> bool:
        return jid.domain == self.settings.xmpp.guest_domain

    def is_agent(self, jid: JID) -> bool:
        return (jid.domain == self.settings.xmpp.agent_domain
                or jid.bare in self.settings.routing.agents)

    def _purposes_of(self, bare: str) -> str:
        """'*' or a comma list, from routing.agent_purposes entries 'jid=p1|p2'."""
        for entry in self.settings.routing.agent_purposes:
            jid, _, purposes = entry.partition("=")
            if jid.strip() == bare:
                return ",".join(p.strip() for p in purposes.split("|") if p.strip())
        return "*"

    def require_agent(self, jid: JID) -> None:
        if not self.is_agent(jid):
            raise Forbidden("only agents may do this")

    # -- §1 claim --------------------------------------------------------------

    async def claim(self, citizen: JID, ticket: str) -> tuple[Chat, int | None, bool]:
        """Redeem a ticket; returns the chat, the queue position, and whether it was interrupted."""
        if not self.is_guest(citizen):
            raise Forbidden("only guests of the citizens' host can claim a chat")
        # Every check first, then the ticket is used up: a refused claim changes nothing.
        sid = await self.store.ticket_session(ticket) if ticket else None
        if sid is None:
            raise Unauthorized("unknown, expired or already used ticket")
        already = await self.store.redis.get(self.store.keys.guest(citizen.bare))
        if already is not None and already.decode() != sid:
            raise Conflict("this guest has already claimed another chat")
        session = await self.store.get(sid)  # item-not-found when the session has ended
        if await self.store.redeem_ticket(ticket) != sid:
            raise Unauthorized("unknown, expired or already used ticket")  # used meanwhile
        cid = await self.store.chat_of(sid)
        if cid is None:
            chat = await self._open(session, citizen)
        else:
            chat = await self._rejoin(cid, citizen)
        await self.store.redis.set(self.store.keys.guest(citizen.bare), sid,
                                   ex=self.settings.store.session_ttl_seconds)
        await self.store.touch(sid)
        interrupted = await self.router.clear_interrupted(chat.id)
        position = await self.router.position(chat.id, chat.purpose)
        log.info("chat %s claimed (session %s) state=%s", chat.id[:8], session_ref(sid), chat.state)
        return chat, position, interrupted

    async def _open(self, session: Session, citizen: JID) -> Chat:
        sid = session.id
        cid = new_chat_id()
        await self.rooms.create(cid, self._title(session.purpose), member=citizen.bare)
        winner = await self.store.link_chat(sid, cid)
        if winner != cid:  # a concurrent claim of the same session got there first
            await self.rooms.destroy(cid)
            return await self._rejoin(winner, citizen)
        await self.router.open_chat(cid, sid, session.purpose, citizen.full)
        chat = await self.router.chat(cid)
        assert chat is not None
        return chat

    async def _rejoin(self, cid: str, citizen: JID) -> Chat:
        """A reload or a reconnect: the same chat, membership moved to the new guest JID."""
        chat = await self.router.chat(cid)
        if chat is None:
            raise NotFound("this chat has ended", slug="unknown-session")
        if not await self.rooms.exists(cid):  # the XMPP server restarted
            await self.rooms.create(cid, self._title(chat.purpose))
            if chat.state == "assigned":
                await self.rooms.admit(cid, chat.agent)
        old = JID(chat.citizen) if chat.citizen else None
        await self.rooms.admit(cid, citizen.bare)
        if old is not None and old.bare != citizen.bare:
            await self.rooms.remove(cid, old.bare)
            await self.store.redis.delete(self.store.keys.guest(old.bare))
        await self.router.set_citizen(cid, citizen.full)
        await self.router.citizen_back(cid)
        fresh = await self.router.chat(cid)
        assert fresh is not None
        return fresh

    def _title(self, purpose: str) -> str:
        """The room's name as agents see it: the purpose label, never personal data."""
        return purpose_label(purpose, self.settings.ui.default_language)

    # -- §3 availability -------------------------------------------------------

    async def agent_presence(self, agent: JID, available: bool, max_chats: int, nick: str) -> None:
        self.require_agent(agent)
        if available:
            await self.router.agent_available(agent.bare, agent.full, max_chats, nick,
                                              self._purposes_of(agent.bare))
        else:
            await self.router.agent_busy(agent.bare, agent.full, max_chats)
        await self.router.agent_returned(agent.bare)
        self.notify.agent_state(agent, await self._agent_chats(agent.bare), max_chats, available)
        if available:
            await self.dispatch()

    async def agent_offline(self, agent: JID) -> None:
        """Unavailable: no new offers now; open chats wait out a short grace (a page reload)."""
        info = await self.router.agent_info(agent.bare)
        if info.get("full") and info["full"] != agent.full:
            return  # another resource of this agent is the one we route to
        await self.router.agent_leaving(agent.bare, self.settings.routing.agent_grace_seconds)
        _, withdrawn = await self.router.withdraw_offers_of(agent.bare)
        if withdrawn:
            await self.dispatch()

    async def agent_gone(self, bare: str) -> None:
        """The grace is over: the agent's citizens go back to the front of the queue."""
        back, _ = await self.router.agent_gone(bare)
        agent = JID(bare)
        for cid in back:
            chat = await self.router.chat(cid)
            if chat is None:
                continue
            await self.rooms.remove(cid, agent.bare)
            self.notify.queued(chat, await self.router.position(cid, chat.purpose),
                                     interrupted=True)
            log.info("chat %s back in the queue: its agent went offline", cid[:8])
        await self.dispatch()

    async def _agent_chats(self, bare: str) -> list[Chat]:
        chats = [await self.router.chat(cid) for cid in await self.router.agent_chats(bare)]
        return [c for c in chats if c is not None and c.state == "assigned"]

    # -- §4 offers -------------------------------------------------------------

    async def dispatch(self) -> None:
        for made in await self.router.dispatch():
            waiting = max(0, int(time.time() - made.enqueued_ms / 1000))
            self.notify.offer(made, waiting, self.settings.routing.offer_timeout_seconds)

    async def accept(self, agent: JID, oid: str) -> Chat:
        self.require_agent(agent)
        cid = await self.router.chat_of_offer(oid)
        info = await self.router.agent_info(agent.bare)
        nick = info.get("nick") or agent.user
        if cid is None or not await self.router.accept(cid, oid, agent.bare, agent.full, nick):
            raise NotFound("no such offer for you: it was revoked or has timed out")
        chat = await self.router.chat(cid)
        assert chat is not None
        # The attributes go to the agent directly, not through the room: no need to
        # wait for the membership before sending them.
        await self.send_attributes(chat)
        await self.rooms.admit(cid, agent.bare)
        self.notify.assigned(chat)
        await self._queue_moved(chat.purpose)
        log.info("chat %s accepted by an agent", cid[:8])
        return chat

    async def decline(self, agent: JID, oid: str) -> None:
        self.require_agent(agent)
        cid = await self.router.chat_of_offer(oid)
        if cid is None or await self.router.decline(cid, oid) != agent.bare:
            raise NotFound("no such offer for you: it was revoked or has timed out")
        await self.dispatch()

    async def expire_offers(self) -> None:
        expired = await self.router.expire_offers()
        for _cid, oid, bare in expired:
            info = await self.router.agent_info(bare)
            if info.get("full"):
                self.notify.revoke(JID(info["full"]), oid, "timeout")
        if expired:
            await self.dispatch()

    # -- §5 attributes ---------------------------------------------------------

    async def send_attributes(self, chat: Chat) -> None:
        """Only to the agent who accepted, and only while the chat is theirs."""
        if chat.state != "assigned" or not chat.agent_full:
            return
        stored = await self.store.attributes(chat.sid)
        self.notify.attributes(JID(chat.agent_full), chat, stored)
        audit.event("attributes-delivered", sid=chat.sid, chat=chat.id, agent=chat.agent,
                    names=stored.attributes if stored else (),
                    status="pending" if stored is None else
                    ("verified" if stored.verified else "not_verified"))

    async def attributes_for(self, agent: JID, cid: str) -> tuple[Chat, object]:
        self.require_agent(agent)
        chat = await self.router.chat(cid)
        if chat is None:
            raise NotFound("no such chat, or it has ended")
        if chat.state != "assigned" or chat.agent != agent.bare:
            raise Forbidden("this chat is not yours")
        stored = await self.store.attributes(chat.sid)
        audit.event("attributes-delivered", sid=chat.sid, chat=chat.id, agent=chat.agent,
                    names=stored.attributes if stored else (), on_request=True)
        return chat, stored

    async def attributes_arrived(self, sid: str) -> None:
        cid = await self.store.chat_of(sid)
        chat = await self.router.chat(cid) if cid else None
        if chat is not None and chat.state == "assigned":
            await self.send_attributes(chat)

    # -- §6 end ------------------------------------------------------------------

    async def end_by_agent(self, agent: JID, cid: str) -> None:
        self.require_agent(agent)
        chat = await self.router.chat(cid)
        if chat is None:
            raise NotFound("no such chat, or it has already ended")
        if chat.agent != agent.bare:
            raise Forbidden("this chat is not yours")
        await self.end(chat, "agent")

    async def end_by_citizen(self, citizen: JID) -> None:
        if not self.is_guest(citizen):
            raise Forbidden("only the citizen can end their chat this way")
        sid = await self.store.redis.get(self.store.keys.guest(citizen.bare))
        cid = await self.store.chat_of(sid.decode()) if sid else None
        chat = await self.router.chat(cid) if cid else None
        if chat is None or JID(chat.citizen).bare != citizen.bare:
            raise NotFound("no chat of yours to end")
        await self.end(chat, "citizen")

    async def end(self, chat: Chat, by: str) -> bool:
        """Tell both sides, destroy the room, purge the session; exactly once across instances."""
        state = await self.router.release(chat.id)
        if state is None:
            return False  # another instance (or an earlier call) ended it
        stored = None
        try:
            stored = await self.store.attributes(chat.sid)
        except NotFound:
            pass
        if chat.citizen:
            self.notify.ended_citizen(JID(chat.citizen), chat.id, by)
        if state == "assigned" and chat.agent_full:
            self.notify.ended_agent(JID(chat.agent_full), chat.id, by)
        await self.rooms.destroy(chat.id)
        await self.store.purge(chat.sid)
        if state == "assigned" and chat.assigned_ms:
            await self.router.record_handling(int(time.time() * 1000) - chat.assigned_ms)
        if chat.citizen:
            await self.store.redis.delete(self.store.keys.guest(JID(chat.citizen).bare))
        if by == "citizen" and stored is not None:
            self.feedback.send(stored.session_url, "logout")
        audit.event("chat-ended", sid=chat.sid, chat=chat.id, agent=chat.agent, by=by,
                    names=stored.attributes if stored and state == "assigned" else ())
        await self._queue_moved(chat.purpose)
        await self.dispatch()  # the agent has room for the next citizen
        log.info("chat %s ended by %s", chat.id[:8], by)
        return True

    # -- presence in the room, activity -------------------------------------------

    async def citizen_left_room(self, cid: str, occupant: JID) -> None:
        chat = await self.router.chat(cid)
        if chat is not None and chat.citizen and JID(chat.citizen).full == occupant.full:
            await self.router.citizen_left(cid, self.settings.routing.citizen_gone_seconds)

    async def citizen_joined_room(self, cid: str, occupant: JID) -> None:
        chat = await self.router.chat(cid)
        if chat is not None and chat.citizen and JID(chat.citizen).full == occupant.full:
            await self.router.citizen_back(cid)

    async def citizen_wrote(self, cid: str) -> None:
        chat = await self.router.chat(cid)
        if chat is None:
            return
        # At most once a minute: extend the idle timeout and tell ID Contact.
        if not await self.store.redis.set(self.store.keys.active_throttle(chat.sid), 1,
                                          ex=60, nx=True):
            return
        try:
            await self.store.touch(chat.sid)
            await self.router.touch(cid)
            stored = await self.store.attributes(chat.sid)
        except NotFound:
            return  # the chat ended while this message was on its way
        if stored is not None:
            self.feedback.send(stored.session_url, "user_active")

    # -- timers (one instance at a time holds the sweeper lease) -------------------

    async def sweep(self) -> None:
        await self.expire_offers()
        for bare in await self.router.agents_gone_too_long():
            await self.agent_gone(bare)
        for cid in await self.router.gone_too_long():
            chat = await self.router.chat(cid)
            if chat is None:
                await self.router.citizen_back(cid)
            else:
                await self.end(chat, "timeout")
        await self._tell_no_agent()

    async def _tell_no_agent(self) -> None:
        limit_ms = self.settings.routing.no_agent_timeout_seconds * 1000
        now_ms = time.time() * 1000
        for purpose in await self.router.all_purposes():
            if await self.router.any_agent_for(purpose):
                continue
            for cid in await self.router.queued(purpose):
                chat = await self.router.chat(cid)
                if chat is None or chat.state != "queued":
                    continue
                if now_ms - chat.enqueued_ms >= limit_ms and await self.store.redis.hsetnx(
                        self.store.keys.chat(cid), "told_no_agent", 1):
                    self.notify.no_agent(chat)

    async def sweep_rooms(self) -> None:
        """Chats whose session expired are ended; their rooms destroyed."""
        for cid in await self.router.all_chats():
            chat = await self.router.chat(cid)
            if chat is None:
                continue
            try:
                await self.store.get(chat.sid)
            except NotFound:
                await self.end(chat, "timeout")

    async def after_reconnect(self) -> None:
        """The stream to the XMPP server was re-established: find out what survived."""
        for cid in await self.router.all_chats():
            chat = await self.router.chat(cid)
            if chat is None or await self.rooms.exists(cid):
                continue
            # The server restarted: rooms and connections are gone. The citizen's page
            # reconnects and claims again; until then the citizen counts as gone.
            if chat.state == "assigned":
                await self.router.agent_gone(chat.agent)
            await self.router.citizen_left(cid, self.settings.routing.citizen_gone_seconds)
        await self.notify.probe_agents(self)

    async def _queue_moved(self, purpose: str) -> None:
        """Push the new positions to everyone still waiting for this purpose."""
        waiting = await self.router.waiting(purpose)
        per_place = await self.router.seconds_per_place() if waiting else None
        for position, (cid, citizen) in enumerate(waiting, start=1):
            wait = None if per_place is None else per_place * position
            self.notify.queued_at(citizen, cid, position, wait=wait)
