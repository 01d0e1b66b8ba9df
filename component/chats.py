"""The life of a chat: claim, queue, offer, accept, attributes, end (docs/protocol.md).

Handlers parse stanzas and call these methods; these methods change Redis through
the store and the router, the rooms through :class:`Rooms`, and tell people through
:class:`Notifier`. Identity checks use server-stamped JIDs only.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from slixmpp import JID

from xmpp_plugin import faults
from xmpp_plugin.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    NotImplementedHere,
    TooManyRequests,
    Unauthorized,
)
from xmpp_plugin.models import Session, StoredAttributes, session_ref
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import SessionStore, TopicIsClosed

from . import audit, metrics
from .core import Core
from .feedback import Feedback
from .grants import Grants
from .notifier import Notifier
from .rooms import Rooms, new_chat_id
from .routing import Chat, OfferMade, Released, Router
from .supervision import DayStats
from .transfers import Transfers

PER_PLACE_MAX_AGE = 5.0  # seconds an expected-wait estimate is used again (no reads meanwhile)
ACTIVITY_THROTTLE_SECONDS = 60  # activity keeps a chat alive, and is told, at most this often

log = logging.getLogger(__name__)

Dispatched = tuple[list[OfferMade], list[str]]  # a dispatch's offers, and the lost chats it found

CITIZEN_NICK = "Inwoner"


class Unread:
    """Not read yet (Chats.send_attributes reads it then)."""


UNREAD = Unread()


@dataclass
class Noted:
    """What this instance knows of a chat's activity (Chats.activity); times are monotonic."""

    sid: str
    alive: float = -math.inf
    told: float = -math.inf


class TopicClosed(Exception):
    """A claim outside the topic's opening hours (§1 ``<closed/>``): nothing was changed.
    ``opens`` is when the topic opens next (None: not within a year)."""

    def __init__(self, purpose: str, opens: datetime | None) -> None:
        super().__init__("the topic is closed now")
        self.purpose = purpose
        self.opens = opens


class Chats:
    def __init__(self, settings: Settings, store: SessionStore, router: Router, rooms: Rooms,
                 notifier: Notifier, feedback: Feedback, core: Core | None = None) -> None:
        self.settings = settings
        self.core = core
        self.store = store
        self.router = router
        self.rooms = rooms
        self.notify = notifier
        self.feedback = feedback
        self.day = DayStats(router, settings.routing.service_level_seconds)
        self.grants = Grants(settings, router)
        self.marker: str | None = None  # the Redis incarnation this instance works with
        # The last availability each agent told this instance (and the purposes they
        # serve): restored if Redis loses it.
        self.duty_memory: dict[str, tuple[str, bool, int, str, str]] = {}
        self._checks = 0
        # Activity this instance has noted (``activity``), per chat: its session, when its
        # records were last known kept alive, and when the citizen's activity was last told.
        # Within a minute of both, a room message needs no Redis at all.
        self._noted: dict[str, Noted] = {}
        self._prune_at = 1000
        self.transfers = Transfers(self)
        router.reoffer_pause_ms = settings.routing.reoffer_pause_seconds * 1000
        router.resume_ms = settings.routing.orphan_check_seconds * 1000

    # -- who is who ----------------------------------------------------------

    def is_guest(self, jid: JID) -> bool:
        return jid.domain == self.settings.xmpp.guest_domain

    def is_agent(self, jid: JID) -> bool:
        return (jid.domain == self.settings.xmpp.agent_domain
                or jid.bare in self.settings.routing.agents)

    def require_agent(self, jid: JID) -> None:
        if not self.is_agent(jid):
            raise Forbidden("only agents may do this")

    async def require_agent_role(self, jid: JID) -> str:
        """An agent, whose current credential (oidc) gives the agent role; returns the
        purposes they serve ('*' or a comma list)."""
        self.require_agent(jid)
        return await self.grants.purposes_of_agent(jid)

    # -- §1 claim --------------------------------------------------------------

    async def claim(self, citizen: JID, ticket: str) -> tuple[Chat, int | None, bool, bool,
                                                             Dispatched | None]:
        """Redeem a ticket; returns the chat, the queue position, whether it was interrupted,
        whether this topic's citizens were told nobody is on duty, and for a new chat the
        dispatch that ran with its opening (after_claim tells its offers). A new chat costs
        two requests to Redis: the redeem, and the opening with the dispatch."""
        if not self.is_guest(citizen):
            raise Forbidden("only guests of the citizens' host can claim a chat")
        if not ticket:
            raise Unauthorized("unknown, expired or already used ticket")
        # Every check first, then the ticket is used up: a refused claim changes nothing.
        cid = new_chat_id()
        try:
            session, existing = await self.store.redeem(
                ticket, citizen.bare, new_chat=cid, deadline_ms=self.router.deadline_now(),
                closed=self._closed_topics())
        except TopicIsClosed as closed:
            raise self._closed(closed.purpose, closed.sid) from None
        sid = session.id
        if existing is None:
            opened = await self._open(session, citizen, cid)
            if opened is not None:
                chat, position, told, dispatched = opened
                self._claimed(chat, sid)
                return chat, position, False, told, dispatched
            existing = await self.store.chat_of(sid)  # a concurrent claim linked its chat first
            if existing is None:
                raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
        chat = await self._rejoin(existing, citizen, session)
        await self.router.set_guest_session(citizen.bare, sid, self.settings.store.session_ttl_seconds)
        await self.store.touch(sid)
        await self.router.touch(chat.id)
        interrupted = await self.router.clear_interrupted(chat.id)
        position, told = await self.router.place(chat.id, chat.purpose)
        self._claimed(chat, sid)
        return chat, position, interrupted, told, None

    def _claimed(self, chat: Chat, sid: str) -> None:
        self.noted(chat)
        log.info("chat %s claimed (session %s) state=%s", chat.id[:8], session_ref(sid), chat.state)
        metrics.claimed()

    def _closed_topics(self) -> list[str]:
        """The topics outside their opening hours right now (topics file)."""
        catalogue, now = self.settings.topics.catalogue(), datetime.now(UTC)
        return [tag for tag, topic in catalogue.topics.items() if not topic.hours.is_open(now)]

    def _closed(self, purpose: str, sid: str) -> TopicClosed:
        """Opening hours (topics file): outside them no chat is opened, so no agent is offered
        one; a chat that already exists goes on (a reload after closing time)."""
        hours = self.settings.topics.catalogue().topic(purpose).hours
        log.info("claim for session %s outside the topic's opening hours", session_ref(sid))
        metrics.closed()
        return TopicClosed(purpose, hours.next_opening(datetime.now(UTC)))

    async def after_claim(self, chat: Chat, position: int | None, interrupted: bool,
                          no_agent: bool | None = None,
                          dispatched: Dispatched | None = None) -> None:
        """What the citizen hears once the claim is answered, then offers go out.
        ``no_agent``: whether the citizens of this topic were told nobody is on duty, when
        the claim's answer has just read it; ``dispatched``: the dispatch that ran with the
        claim, whose offers are told here (else a dispatch runs now)."""
        if chat.auth_state == "requested":  # back from the core, or a reload before going
            self.notify.auth(chat.citizen, chat.id, "requested", chat.auth_method, chat.auth_url)
        if no_agent is None and chat.state != "assigned":
            no_agent = await self.router.told_off_duty(chat.purpose)
        if chat.state == "assigned":
            self.notify.assigned(chat)
        elif no_agent:
            self.notify.no_agent(chat)  # nobody on duty: say so at once
        elif interrupted:
            self.notify.queued(chat, position, interrupted=True)
        if dispatched is None:
            await self.dispatch()
        else:
            await self._offers_made(*dispatched)

    async def expected_wait(self, position: int | None) -> float | None:
        if position is None:
            return None
        per_place = await self.router.seconds_per_place(max_age=PER_PLACE_MAX_AGE)
        return None if per_place is None else per_place * position

    async def _open(self, session: Session, citizen: JID,
                    cid: str) -> tuple[Chat, int | None, bool, Dispatched] | None:
        """The new chat ``cid`` (already in the lifetime index), with its queue position,
        whether this topic's citizens were told nobody is on duty, and the dispatch that ran
        right after it was queued (its offers not told yet); None when a concurrent claim
        of the same session linked its own chat first (this one is undone)."""
        await self.rooms.create(cid, self._title(session.purpose), member=citizen.bare)
        faults.point("claim.room_created")
        (kind, chat, position, told), dispatched = await self.router.open_and_dispatch(
            cid, session.id, session.purpose, citizen.full,
            guest_key=self.store.keys.guest(citizen.bare),
            session_ttl=self.settings.store.session_ttl_seconds,
            no_agent_grace_ms=self.settings.routing.no_agent_timeout_seconds * 1000)
        if not isinstance(chat, Chat):  # another chat won, or the session ended meanwhile
            await self._offers_made(*dispatched)  # for other chats
            await self.rooms.destroy(cid)
            await self.router.forget(cid)
            if kind == "gone":
                raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
            return None
        faults.point("claim.linked")
        return chat, position, told, dispatched

    async def _rejoin(self, cid: str, citizen: JID, session: Session) -> Chat:
        """A reload or a reconnect: the same chat, membership moved to the new guest JID."""
        chat = await self.router.chat(cid)
        if chat is not None and chat.state == "ending":
            raise NotFound("this chat has ended", slug="unknown-session")
        if chat is None:
            # The session (which still lives) names this chat, but it was never opened:
            # a claim cut short by a crash. Open it now.
            await self.router.reserve(cid)
            if not await self.rooms.exists(cid):
                await self.rooms.create(cid, self._title(session.purpose))
            await self.router.open_chat(cid, session.id, session.purpose, citizen.full)
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
            await self.router.forget_guest(old.bare)
        await self.router.set_citizen(cid, citizen.full)
        await self.router.citizen_back(cid)
        fresh = await self.router.chat(cid)
        assert fresh is not None
        return fresh

    def _title(self, purpose: str) -> str:
        """The room's name as agents see it: the purpose label, never personal data."""
        return self.settings.topics.catalogue().label(purpose, self.settings.ui.default_language)

    # -- §3 availability -------------------------------------------------------

    async def agent_presence(self, agent: JID, available: bool, max_chats: int, nick: str) -> None:
        purposes = await self.require_agent_role(agent)
        withdrawn: list[str] = []
        self.duty_memory[agent.bare] = (agent.full, available, max_chats, nick, purposes)
        if available:
            await self.router.agent_available(agent.bare, agent.full, max_chats, nick, purposes)
        else:  # away: open chats go on, offers still out go to someone else
            await self.router.agent_busy(agent.bare, agent.full, max_chats, nick)
            withdrawn, offers = await self.router.withdraw_offers_of(agent.bare)
            for oid in offers:
                self.notify.revoke(agent, oid, "unavailable")
            await self.transfers.withdraw_offers_to(agent.bare, "unavailable")
        await self.router.agent_returned(agent.bare)
        self.notify.agent_state(agent, await self._agent_chats(agent.bare), max_chats, available)
        await self.duty()  # citizens who were told nobody is on duty hear otherwise, or v.v.
        if available or withdrawn:
            await self.dispatch()
            await self._tell_waiting(withdrawn)

    async def agent_offline(self, agent: JID) -> None:
        """Unavailable: no new offers now; open chats wait out a short grace (a page reload)."""
        info = await self.router.agent_info(agent.bare)
        if info.get("full") and info["full"] != agent.full:
            return  # another resource of this agent is the one we route to
        self.duty_memory.pop(agent.bare, None)
        await self.router.agent_leaving(agent.bare, self.settings.routing.agent_grace_seconds)
        withdrawn, _ = await self.router.withdraw_offers_of(agent.bare)
        await self.transfers.withdraw_offers_to(agent.bare, None)
        await self.duty()
        if withdrawn:
            await self.dispatch()
            await self._tell_waiting(withdrawn)

    async def agent_gone(self, bare: str) -> None:
        """The grace is over: the agent's citizens go back to the front of the queue."""
        await self.transfers.withdraw_offers_of(bare)
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

    async def end_lapsed_agents(self) -> None:
        """oidc: an agent whose credential lapsed (signed out, a renewal refused, the role
        taken away) is treated as gone offline: no new offers, and after the grace their
        citizens go back to the queue. The XMPP server ends their session at the same
        time; this is the second fence, run with the room sweep."""
        if self.settings.agents.mode != "oidc":
            return
        for bare in await self.router.agents_known():
            if not self.grants.by_credential(JID(bare)) or await self.grants.current(bare):
                continue
            working = await self.router.on_duty(bare) or await self.router.agent_chats(bare)
            leaving = await self.router.is_leaving(bare)
            info = await self.router.agent_info(bare)
            if working and not leaving and info.get("full"):
                log.info("an agent's credential lapsed: treated as gone offline")
                await self.agent_offline(JID(info["full"]))

    async def _agent_chats(self, bare: str) -> list[Chat]:
        chats = [await self.router.chat(cid) for cid in await self.router.agent_chats(bare)]
        return [c for c in chats if c is not None and c.state == "assigned"]

    # -- §4 offers -------------------------------------------------------------

    async def dispatch(self) -> None:
        await self._offers_made(*await self.router.dispatch())

    async def _offers_made(self, made_offers: list[OfferMade], lost: list[str]) -> None:
        """Tell the agents of the offers a dispatch made; forget the chats it found lost."""
        if made_offers:
            faults.point("offer.made")
        metrics.offered(len(made_offers))
        for made in made_offers:
            waiting = max(0, int(time.time() - made.enqueued_ms / 1000))
            self.notify.offer(made, waiting, self.settings.routing.offer_timeout_seconds)
            if made.citizen:
                self.notify.offered(made.citizen, made.chat)
        for cid in lost:
            await self.forget(cid)

    async def _tell_waiting(self, withdrawn_chats: list[str]) -> None:
        """After offers were withdrawn and dispatch ran: chats that are waiting again
        (not offered anew) hear their place in the queue."""
        purposes = set()
        for cid in withdrawn_chats:
            chat = await self.router.chat(cid)
            if chat is not None and chat.state == "queued":
                purposes.add(chat.purpose)
        for purpose in sorted(purposes):
            await self._queue_moved(purpose)

    async def accept(self, agent: JID, oid: str) -> Chat:
        await self.require_agent_role(agent)
        accepted = await self.router.accept(oid, agent.bare, agent.full, agent.user,
                                            self.day.counting())
        if isinstance(accepted, str):  # a colleague's transfer offer
            return await self.transfers.take_over(agent, accepted, oid)
        if accepted is None:
            raise NotFound("no such offer for you: it was revoked or has timed out")
        chat, cid = accepted.chat, accepted.chat.id
        self.noted(chat)
        faults.point("accept.routed")
        metrics.accepted(chat)
        # The attributes go to the agent directly, not through the room: no need to
        # wait for the membership before sending them.
        await self.send_attributes(chat, self.store.opened(chat.sid, accepted.sealed))
        faults.point("accept.delivered")
        await self.rooms.admit(cid, agent.bare)
        await self.transfers.remove_previous(chat, agent.bare)
        await self.router.update(cid, ready="1")
        self.notify.assigned(chat)
        if accepted.waiting:  # the others waiting move up a place
            await self._queue_moved(chat.purpose)
        log.info("chat %s accepted by an agent", cid[:8])
        return chat

    async def decline(self, agent: JID, oid: str) -> None:
        self.require_agent(agent)
        cid = await self.router.chat_of_offer(oid)
        if cid is not None and await self.transfers.is_offer(cid, oid):
            return await self.transfers.decline(agent, cid, oid)
        # Ownership is checked inside the withdrawal: nobody else's decline withdraws it.
        if cid is None or not await self.router.decline(cid, oid, agent.bare):
            raise NotFound("no such offer for you: it was revoked or has timed out")
        metrics.declined()
        await self.dispatch()
        await self._tell_waiting([cid])

    async def expire_offers(self) -> None:
        expired = await self.router.expire_offers()
        metrics.timed_out(len(expired))
        for _cid, oid, bare in expired:
            info = await self.router.agent_info(bare)
            if info.get("full"):
                self.notify.revoke(JID(info["full"]), oid, "timeout")
        if expired:
            await self.dispatch()
            await self._tell_waiting([cid for cid, _, _ in expired])

    # -- §5 attributes ---------------------------------------------------------

    async def send_attributes(self, chat: Chat, stored: StoredAttributes | None | Unread = UNREAD) -> None:
        """Only to the agent who accepted, and only while the chat is theirs; ``stored``:
        the attributes when the caller has them at hand (read with the chat)."""
        if chat.state != "assigned" or not chat.agent_full:
            return
        if isinstance(stored, Unread):
            stored = await self.store.attributes(chat.sid)
        await self.notify.attributes(JID(chat.agent_full), chat, stored,  # audited once sent
                                     self.transfers.note_of(chat))
        audit.event("attributes-delivered", sid=chat.sid, chat=chat.id, agent=chat.agent,
                    names=self._shown_names(chat, stored),
                    status="pending" if stored is None else
                    ("verified" if stored.verified else "not_verified"))

    async def attributes_for(self, agent: JID, cid: str) -> tuple[Chat, object]:
        await self.require_agent_role(agent)
        chat = await self.router.chat(cid)
        if chat is None:
            raise NotFound("no such chat, or it has ended")
        if chat.state != "assigned" or chat.agent != agent.bare:
            raise Forbidden("this chat is not yours")
        stored = await self.store.attributes(chat.sid)
        return chat, stored

    def _shown_names(self, chat: Chat, stored: object) -> list[str]:
        """The attributes the agent got: the topic's (topics file), for the audit log."""
        if stored is None:
            return []
        shown = self.settings.topics.catalogue().shown(chat.purpose, stored.attributes)  # type: ignore[attr-defined]
        return [name for name, _ in shown]

    async def answer_with_attributes(self, reply: object, chat: Chat, stored: object) -> None:
        """Send the answer with the details; audit it once it is on its way."""
        await self.notify.send_now(reply)
        audit.event("attributes-delivered", sid=chat.sid, chat=chat.id, agent=chat.agent,
                    names=self._shown_names(chat, stored),
                    on_request=True)

    async def attributes_arrived(self, sid: str, auth: str = "", attr: str = "") -> None:
        """Late attributes: pushed to the chat's agent. ``auth`` ('verified' or 'failed')
        when they answer an authentication during the chat (§11), for its ``attr`` url."""
        cid = await self.store.chat_of(sid)
        chat = await self.router.chat(cid) if cid else None
        if chat is None:
            return
        if auth:
            ended = await self.router.auth_end(chat.id, attr)
            await self._back_from_the_core(chat)
            method = ended[0] if ended else chat.auth_method
            if chat.citizen:
                self.notify.auth(chat.citizen, chat.id, auth, method)
            if chat.state == "assigned" and chat.agent_full:
                self.notify.auth(chat.agent_full, chat.id, auth, method)
            stored = await self.store.attributes(sid)
            audit.event("authenticated-in-chat", sid=sid, chat=chat.id, agent=chat.agent,
                        names=self._shown_names(chat, stored) if auth == "verified" else (),
                        method=method, result=auth)
        if chat.state == "assigned":
            await self.send_attributes(chat)

    # -- §11 authentication during the chat -------------------------------------

    def _core(self) -> Core:
        if self.core is None:
            raise NotImplementedHere("authentication during the chat is not configured "
                                     "(auth.core_url)", slug="not-configured")
        return self.core

    async def _agents_chat(self, agent: JID, cid: str) -> Chat:
        await self.require_agent_role(agent)
        chat = await self.router.chat(cid) if cid else None
        if chat is None or chat.state == "ending":
            raise NotFound("no such chat, or it has ended")
        if chat.state != "assigned" or chat.agent != agent.bare:
            raise Forbidden("this chat is not yours")
        return chat

    async def auth_methods(self, agent: JID, cid: str) -> tuple[Chat, list[str]]:
        chat = await self._agents_chat(agent, cid)
        return chat, await self._core().methods(chat.purpose)

    async def request_auth(self, agent: JID, cid: str, method: str) -> Chat:
        """Ask the core to authenticate this chat's citizen; one request per chat at a time,
        ``auth.agent_requests_per_minute`` per agent."""
        chat = await self._agents_chat(agent, cid)
        core = self._core()
        if method not in await core.methods(chat.purpose):
            raise InvalidRequest("the core does not allow this method for this chat's purpose")
        await self._charge_auth_rate(agent.bare)
        a = self.settings.auth
        outcome = await self.router.auth_begin(cid, agent.bare, method,
                                               int((time.time() + a.request_timeout_seconds) * 1000))
        if outcome == "busy":
            raise Conflict("an authentication request is already out for this chat")
        if outcome != "ok":
            raise Forbidden("this chat is not yours")
        attr_id = ""
        try:
            attr_id = await self.store.open_chat_auth(chat.sid)
            await self.router.update(cid, auth_attr=attr_id)
            h = self.settings.http
            url = await core.start(chat.purpose, method, f"{h.external_url}/s/{chat.sid}",
                                   f"{h.internal_url}/attributes/{attr_id}")
            if not await self.router.update(cid, auth_state="requested", auth_url=url):
                raise NotFound("this chat has ended")
        except BaseException:
            await self.router.auth_end(cid)
            if attr_id:
                await self.store.drop_chat_auth(chat.sid, attr_id)
            raise
        self.notify.auth(chat.citizen, cid, "requested", method, url)
        audit.event("authentication-requested", sid=chat.sid, chat=cid, agent=chat.agent,
                    method=method)
        log.info("chat %s: authentication requested (%s)", cid[:8], method)
        return chat

    async def _back_from_the_core(self, chat: Chat) -> None:
        """The request is over; a citizen still away (logging in, on their way back) gets a
        fresh routing.citizen_gone_seconds to come back, however long the login took."""
        await self.router.grace_again(chat.id, self.settings.routing.citizen_gone_seconds)

    async def _charge_auth_rate(self, bare: str) -> None:
        if await self.router.count_auth_request(bare) > self.settings.auth.agent_requests_per_minute:
            raise TooManyRequests("too many authentication requests this minute; try again later")

    async def cancel_auth(self, sender: JID, cid: str) -> None:
        """The citizen refuses (or gives up), or the agent withdraws the request."""
        if self.is_guest(sender):
            sid = await self.router.guest_session(sender.bare)
            cid = (await self.store.chat_of(sid) or "") if sid else ""
            chat = await self.router.chat(cid) if cid else None
            if chat is None or JID(chat.citizen).bare != sender.bare:
                raise NotFound("no chat of yours")
            state = "declined"
        else:
            chat = await self._agents_chat(sender, cid)
            state = "cancelled"
        if not await self._auth_over(chat, state):
            raise NotFound("no authentication request is out for this chat")

    async def _auth_over(self, chat: Chat, state: str) -> bool:
        """The request ends without attributes: its attr_url goes, both sides are told."""
        ended = await self.router.auth_end(chat.id)
        if ended is None:
            return False
        method, attr_id = ended
        if attr_id:
            await self.store.drop_chat_auth(chat.sid, attr_id)
        await self._back_from_the_core(chat)
        if chat.citizen:
            self.notify.auth(chat.citizen, chat.id, state, method)
        if chat.state == "assigned" and chat.agent_full:
            self.notify.auth(chat.agent_full, chat.id, state, method)
        audit.event("authentication-" + state, sid=chat.sid, chat=chat.id, agent=chat.agent,
                    method=method)
        return True

    # -- §6 end ------------------------------------------------------------------

    async def end_by_agent(self, agent: JID, cid: str) -> None:
        self.require_agent(agent)
        released = await self.router.release_by_agent(cid, agent.bare)  # checked, then ended
        if released == "gone":
            raise NotFound("no such chat, or it has already ended")
        if released == "not-yours":
            raise Forbidden("this chat is not yours")
        if isinstance(released, Released) and released.chat is not None:
            faults.point("end.released")
            await self._wind_up(released.chat, released, "agent")

    async def end_by_citizen(self, citizen: JID) -> None:
        if not self.is_guest(citizen):
            raise Forbidden("only the citizen can end their chat this way")
        sid = await self.router.guest_session(citizen.bare)
        cid = await self.store.chat_of(sid) if sid else None
        chat = await self.router.chat(cid) if cid else None
        if chat is None or JID(chat.citizen).bare != citizen.bare:
            raise NotFound("no chat of yours to end")
        await self.end(chat, "citizen")

    async def end(self, chat: Chat, by: str) -> bool:
        """Tell both sides, destroy the room, purge the session; exactly once across instances.

        Every record of the chat ends here, whichever way the chat ends: the routing state
        (queue entry, offer, the agent's load and open chats, the lifetime index), the
        session with its attributes, the ticket-to-guest mapping, and the room with its
        history."""
        released = await self.router.release(chat.id, by)
        if released is None:
            return False  # another instance (or an earlier call) ended it
        faults.point("end.released")
        await self._wind_up(chat, released, by)
        return True

    async def _wind_up(self, chat: Chat, released: Released, by: str) -> None:
        """The rest of an end, after routing let go of the chat; safe to run again when a
        crash cut it short (the sweeper resumes ends left 'ending')."""
        state = released.state
        self.forget_activity(chat.id)
        metrics.ended(chat, state, by)
        await self.day.ended(state, by)
        if state == "offered" and released.offered_to:
            info = await self.router.agent_info(released.offered_to)
            if info.get("full"):
                self.notify.revoke(JID(info["full"]), released.offer, "ended")
        if released.transfer_to:  # a colleague was being offered it
            info = await self.router.agent_info(released.transfer_to)
            if info.get("full"):
                self.notify.revoke(JID(info["full"]), released.transfer_offer, "ended")
        stored = None
        if by == "citizen" or state == "assigned":  # for the logout notice, or the audit
            if released.sealed is not None:  # read by the release
                stored = self.store.opened(chat.sid, released.sealed or None)
            else:
                try:
                    stored = await self.store.attributes(chat.sid)
                except NotFound:
                    pass
        if chat.citizen:
            self.notify.ended_citizen(JID(chat.citizen), chat.id, by)
        if state == "assigned" and chat.agent_full:
            self.notify.ended_agent(JID(chat.agent_full), chat.id, by)
        await self.rooms.destroy(chat.id)
        if by == "citizen" and stored is not None:
            self.feedback.send(stored.session_url, "logout")
        audit.event("chat-ended", sid=chat.sid, chat=chat.id, agent=chat.agent, by=by,
                    names=self._shown_names(chat, stored) if state == "assigned" else ())
        # The session, its attributes, the guest's claim and the chat's record go together.
        keys = self.store.keys
        here, anywhere = await self.router.wind_up(
            chat, handling_ms=(int(time.time() * 1000) - chat.assigned_ms
                               if state == "assigned" and chat.assigned_ms else None),
            also=[keys.active_throttle(chat.sid), keys.active_throttle(f"{chat.sid}:alive"),
                  *([keys.guest(JID(chat.citizen).bare)] if chat.citizen else [])])
        if here:
            await self._queue_moved(chat.purpose)
        if anywhere and await self.router.had_no_room(_freed(chat, released)):
            await self.dispatch()  # the agent has room for the next citizen again
        log.info("chat %s ended by %s", chat.id[:8], by)

    # -- presence in the room, activity -------------------------------------------

    async def citizen_left_room(self, cid: str, occupant: JID) -> None:
        await self.router.citizen_presence(cid, occupant.full, False,
                                           self.settings.routing.citizen_gone_seconds)

    async def citizen_joined_room(self, cid: str, occupant: JID) -> None:
        await self.router.citizen_presence(cid, occupant.full, True, 0)

    async def citizen_wrote(self, cid: str) -> None:
        await self.activity(cid, citizen=True)

    async def activity(self, cid: str, *, citizen: bool) -> None:
        """A message in the room: the chat lives another idle timeout, kept alive at most
        once a minute (not within a minute of the last time: the claim, an earlier message;
        Chat.alive_ms). The citizen's activity is told to ID Contact, at most once a minute."""
        now = time.monotonic()
        noted = self._noted.get(cid)
        alive = noted is not None and now - noted.alive < ACTIVITY_THROTTLE_SECONDS
        if alive and (not citizen or now - noted.told < ACTIVITY_THROTTLE_SECONDS):  # type: ignore[union-attr]
            return  # this instance looked within the minute: nothing to do in Redis yet
        if alive and noted is not None and noted.sid:  # only the citizen's notice is due
            noted.told = now
            await self._tell_active(noted.sid)
            return
        self._prune_activity(now)
        chat = await self.router.chat(cid)
        if chat is None:
            return
        noted = self._noted.setdefault(cid, Noted(chat.sid))
        age = time.time() - chat.alive_ms / 1000
        if age >= ACTIVITY_THROTTLE_SECONDS and \
                await self.router.throttle(f"{chat.sid}:alive", ACTIVITY_THROTTLE_SECONDS):
            try:
                await self.keep_alive(chat)
            except NotFound:
                return  # the chat ended while this message was on its way
            noted.alive = now
        else:  # kept alive lately (here, by the claim, or by another instance)
            noted.alive = now - min(max(age, 0.0), ACTIVITY_THROTTLE_SECONDS)
        if citizen:
            noted.told = now
            await self._tell_active(chat.sid)

    async def _tell_active(self, sid: str) -> None:
        """ID Contact hears that the citizen is active, at most once a minute per session
        over all instances."""
        stored = await self.store.active(sid, ACTIVITY_THROTTLE_SECONDS)
        if stored is not None:
            self.feedback.send(stored.session_url, "user_active")

    def noted(self, chat: Chat) -> None:
        """This instance has the chat's record as of now (claimed, accepted): messages within a
        minute of its last keep-alive need no read of it."""
        age = max(0.0, time.time() - chat.alive_ms / 1000) if chat.alive_ms else ACTIVITY_THROTTLE_SECONDS
        entry = self._noted.setdefault(chat.id, Noted(chat.sid))
        entry.alive = max(entry.alive, time.monotonic() - min(age, ACTIVITY_THROTTLE_SECONDS))
        self._prune_activity(time.monotonic())

    def _prune_activity(self, now: float) -> None:
        """What is a minute old says nothing any more: dropped once the table grows (a chat
        that ended here is dropped at once; one that ended elsewhere, this way)."""
        if len(self._noted) < self._prune_at:
            return
        for cid in [c for c, n in self._noted.items()
                    if now - max(n.alive, n.told) >= ACTIVITY_THROTTLE_SECONDS]:
            del self._noted[cid]
        self._prune_at = max(1000, 2 * len(self._noted))

    def forget_activity(self, cid: str) -> None:
        self._noted.pop(cid, None)

    async def keep_alive(self, chat: Chat) -> None:
        """Every record of the chat lives another idle timeout, together."""
        if not await self.store.touch(chat.sid):
            raise NotFound("this chat's session has ended", slug="unknown-session")
        await self.router.touch(chat.id)
        if chat.citizen:
            await self.router.keep_guest(JID(chat.citizen).bare,
                                         self.settings.store.session_ttl_seconds)

    # -- timers (one instance at a time holds the sweeper lease) -------------------

    async def sweep(self) -> None:
        await self.expire_offers()
        await self.transfers.expire()
        for bare in await self.router.agents_gone_too_long():
            await self.agent_gone(bare)
        for cid in await self.router.gone_too_long():
            chat = await self.router.chat(cid)
            if chat is None:
                await self.router.citizen_back(cid)
            elif chat.auth_state and chat.auth_deadline_ms > time.time() * 1000:
                continue  # logging in at the core (§11): away until the request expires
            else:
                await self.end(chat, "timeout")
        await self.expire_idle()
        await self.duty()
        # Refusals wear off (routing.reoffer_pause_seconds) without any event: look again.
        await self.dispatch()

    async def expire_idle(self) -> None:
        """Chats past their idle timeout end, with everything they hold. A citizen who is
        still waiting in the room is present, not idle: a long queue never expires them."""
        for cid in await self.router.due():
            chat = await self.router.chat(cid)
            if chat is None:
                await self.forget(cid)
            elif chat.state == "ending":  # its end was cut short: wind it up
                await self._wind_up(chat, Released(chat.ended_from), chat.ended_by or "system")
            elif chat.state in ("queued", "offered") and chat.present:
                try:
                    await self.keep_alive(chat)
                except NotFound:  # the session itself is gone: nothing to wait for
                    await self.end(chat, "timeout")
            else:
                await self.end(chat, "timeout")

    async def forget(self, cid: str, *, recount: bool = True) -> None:
        """A chat whose record was lost: out of every queue and index; the people this
        instance saw in its room are told it ended, the room is destroyed (the MUC service
        tells whoever is in it too), and the agents' load recounted."""
        await self.router.forget(cid)
        for person in self.rooms.people_in(cid):
            jid = JID(person)
            if self.is_guest(jid):
                self.notify.ended_citizen(jid, cid, "system")
            elif self.is_agent(jid):
                self.notify.ended_agent(jid, cid, "system")
        await self.rooms.destroy(cid)
        log.warning("chat %s had no record any more: removed from routing, room destroyed", cid[:8])
        if recount:
            await self.reconcile()

    async def check_records(self) -> None:
        """Run by every instance. Redis holds a marker this component owns; when it is
        gone (or another instance has set a new one), Redis lost everything: every room
        this instance knows without a chat record is ended and its people told. Rooms
        without a record that are older than a claim can take are ended the same way
        (a claim cut short by a crash)."""
        value = await self.router.marker()
        lost = self.marker is not None and value != self.marker
        self.marker = value
        self._checks += 1
        if lost:
            log.error("Redis lost its data (the component's marker changed): ending the "
                      "%d rooms this instance knows without a record", len(self.rooms.known))
            candidates = list(self.rooms.known)
            await self._restore_duty()
        elif self._checks % 10 == 0:
            candidates = self.rooms.older_than(self.settings.routing.orphan_check_seconds)
        else:
            return
        if not candidates:
            return
        orphans = await self.router.without_record(candidates)
        for cid in orphans:
            if not await self.rooms.exists(cid):  # ended meanwhile (by another instance)
                self.rooms.known.pop(cid, None)
                continue
            await self.forget(cid, recount=False)
        if orphans:
            await self.reconcile()

    async def _restore_duty(self) -> None:
        """Agents on duty stay on duty: their last word to this instance is written again."""
        for bare, (full, available, max_chats, nick, purposes) in list(self.duty_memory.items()):
            if available:
                await self.router.agent_available(bare, full, max_chats, nick, purposes)
            else:
                await self.router.agent_busy(bare, full, max_chats, nick)

    async def reconcile(self) -> None:
        """Recount agents' load; those whose numbers were off hear their state again."""
        for bare in await self.router.reconcile():
            info = await self.router.agent_info(bare)
            if info.get("full"):
                available = await self.router.on_duty(bare)
                self.notify.agent_state(JID(info["full"]), await self._agent_chats(bare),
                                        int(info.get("max", 1)), available)
        await self.dispatch()

    async def duty(self) -> None:
        """Citizens hear at once when nobody serving their topic is on duty (after
        routing.no_agent_timeout_seconds), and hear their place again when someone is."""
        grace_ms = self.settings.routing.no_agent_timeout_seconds * 1000
        every, served = await self.router.purposes_on_duty()
        for purpose in await self.router.all_purposes():
            change = await self.router.duty_changed(purpose, every or purpose in served, grace_ms)
            if change == "off":
                for cid in await self.router.queued(purpose):
                    chat = await self.router.chat(cid)
                    if chat is not None and chat.state == "queued":
                        self.notify.no_agent(chat)
            elif change == "on":
                await self._queue_moved(purpose)

    async def sweep_rooms(self) -> None:
        """Every chat in the lifetime index is checked: a lost record or an expired session
        ends it; the agents' load is recounted."""
        await self.end_lapsed_agents()
        stale = set(await self.router.stale(self.settings.routing.orphan_check_seconds))
        for cid in await self.router.all_chats():
            chat = await self.router.chat(cid)
            if chat is None:
                if cid in stale:  # else: a claim is setting it up right now
                    await self.forget(cid)
                continue
            if chat.state == "ending":
                continue  # wound up by whoever ends it, or by expire_idle when due
            if chat.auth_state and chat.auth_deadline_ms <= time.time() * 1000:
                await self._auth_over(chat, "expired")  # the citizen did not finish (§11)
            try:
                await self.store.get(chat.sid)
            except NotFound:
                await self.end(chat, "timeout")
                continue
            if chat.state == "assigned" and not chat.ready and chat.assigned_ms and \
                    time.time() - chat.assigned_ms / 1000 > self.settings.routing.orphan_check_seconds:
                await self._complete_accept(chat)
        await self.reconcile()

    async def _complete_accept(self, chat: Chat) -> None:
        """An accept cut short (a crash after routing took it): the agent is admitted, the
        citizen told, and the agent's console told its chats (it opens the room and asks
        for the details itself, which is audited then)."""
        await self.rooms.admit(chat.id, chat.agent)
        await self.transfers.remove_previous(chat, chat.agent)
        await self.router.update(chat.id, ready="1")
        self.notify.assigned(chat)
        info = await self.router.agent_info(chat.agent)
        if chat.agent_full:
            available = await self.router.on_duty(chat.agent)
            self.notify.agent_state(JID(chat.agent_full), await self._agent_chats(chat.agent),
                                    int(info.get("max", 1)), available)
        log.warning("chat %s: an accept cut short was completed", chat.id[:8])

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
        """Push the new positions to everyone still waiting for this purpose (not while
        they have been told that nobody is on duty: that is what stays true)."""
        waiting = await self.router.waiting(purpose)  # one read, whoever waits
        if not waiting:  # nobody waits, or they were told nobody is on duty
            return
        per_place = await self.router.seconds_per_place(max_age=PER_PLACE_MAX_AGE)
        for position, (cid, citizen, state) in enumerate(waiting, start=1):
            if state != "queued":
                continue  # being offered: the citizen was told an agent is looking
            wait = None if per_place is None else per_place * position
            self.notify.queued_at(citizen, cid, position, wait=wait)


def _freed(chat: Chat, released: Released) -> list[str] | None:
    """The agents one of whose places this end freed (their chat, their offer, a transfer
    offered to them); None when not known: an end resumed after a crash."""
    if chat.state == "ending":
        return None
    freed = [released.transfer_to] if released.transfer_to else []
    if released.state == "assigned":
        freed.append(released.agent)
    elif released.state == "offered":
        freed.append(released.offered_to)
    return freed if all(freed) else None
