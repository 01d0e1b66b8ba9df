"""Queues, agents and offers in Redis; every routing decision is one Lua script.

Because each decision is atomic in Redis, any number of component instances can
route at once: a chat is offered to one agent at a time, an offer is accepted at
most once, and an agent never holds more chats plus offers than their capacity.

A chat (``chat:<cid>`` hash) is ``queued``, ``offered`` or ``assigned``. Queued and
offered chats sit in their purpose's queue (a sorted set scored by arrival, in
milliseconds; a chat put back after a lost agent keeps its place at the front).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from xmpp_plugin import lua
from xmpp_plugin.store import Keys

HANDLING_SAMPLES = 50
MIN_HANDLING_SAMPLES = 3
FRONT = 10 ** 13  # subtracted from a score to put a chat back at the front of its queue


@dataclass(frozen=True)
class OfferMade:
    chat: str
    agent: str        # bare JID
    agent_full: str   # where the offer goes
    offer: str
    purpose: str
    enqueued_ms: int
    citizen: str = ""  # full JID, told that an agent is looking at the question


@dataclass(frozen=True)
class Accepted:
    chat: Chat
    waiting: int        # chats still in its topic's queue
    sealed: str | None  # the session's attributes as stored (SessionStore.opened); None: pending


@dataclass(frozen=True)
class DayCount:
    """How an accept counts its chat in today's figures (component/supervision.py): the
    day (its keys are named by it), the service level (s), the waits kept, and the keys'
    lifetime (s)."""
    day: str
    service_level: int
    samples: int
    ttl: int


@dataclass(frozen=True)
class Released:
    """What an ended chat was: its state, the offer that was out for it, if any, the
    colleague a transfer was offered to, if any (component/transfers.py), and its agent."""
    state: str
    offered_to: str = ""
    offer: str = ""
    transfer_to: str = ""
    transfer_offer: str = ""
    agent: str = ""
    sealed: str | None = None  # the session's attributes as the release read them ('' while
    # pending or when the session is gone); None: not read (an end resumed by the sweeper)
    chat: Chat | None = None   # the chat's record as the release found it


@dataclass(frozen=True)
class Snapshot:
    """The contact centre's figures as read for component/overview.py, in two pipelines."""
    purposes: list[str]                  # sorted, at most max_purposes
    on_duty: set[str]
    agents: list[str]                    # everyone known or on duty, sorted, at most max_agents
    open_chats: int                      # the lifetime index's size
    samples: list[int]                   # the last handling times (ms)
    queues: list[tuple[int, float | None]]    # per purpose: waiting, the first one's score
    agent_rows: list[list[bytes | None]]      # per agent: max, load, pending, last, nick


@dataclass(frozen=True)
class Chat:
    id: str
    sid: str
    purpose: str
    state: str
    citizen: str
    agent: str
    agent_full: str
    agent_nick: str
    enqueued_ms: int
    assigned_ms: int
    present: bool = False   # the citizen is in the room (a waiting citizen who is never expires)
    offer: str = ""
    offered_to: str = ""
    ready: bool = False     # assigned, and the agent admitted to the room
    ended_from: str = ""    # while 'ending': the state it ended in, and by whom
    ended_by: str = ""
    transfer_to: str = ""     # a colleague this chat is being offered to (still assigned)
    transfer_offer: str = ""
    transferred_by: str = ""  # the display name of the agent who handed it on, if any
    transfer_note: str = ""   # their internal note, sealed (SessionStore.seal_note)
    handed_from: str = ""     # their bare JID, taken out of the room by whoever takes it next
    # An authentication during the chat (docs/protocol.md §11): 'starting' while the core
    # is asked, 'requested' once the citizen has its client_url; until auth_deadline_ms.
    auth_state: str = ""
    auth_method: str = ""
    auth_url: str = ""
    auth_attr: str = ""
    auth_deadline_ms: int = 0
    alive_ms: int = 0         # when the chat's records were last kept alive (touch)


class Router:
    """The routing state of all component instances, in Redis."""

    def __init__(self, client: aioredis.Redis, keys: Keys, *, offer_timeout: int,
                 chat_ttl: int, reoffer_pause: int = 60) -> None:
        self.redis = client
        self.keys = keys
        self.offer_timeout_ms = offer_timeout * 1000
        self.reoffer_pause_ms = reoffer_pause * 1000
        self._per_place: tuple[float, float | None] | None = None  # (when, seconds_per_place)
        self.resume_ms = 30_000  # an end not wound up by then (its process died) is resumed
        # A chat lives while it is active (chat_ttl, the idle timeout); its lifetime is kept
        # in the 'lives' index, which the sweeper reads. The record's own TTL is only a
        # safety net, well beyond that: the sweeper ends the chat, with its room and all.
        self.chat_ttl = chat_ttl
        self.record_ttl = 2 * chat_ttl + 60
        self._open = lua.script(client, "routing_open")
        self._presence = lua.script(client, "routing_presence")
        self._wind_up = lua.script(client, "routing_wind_up")
        self._waiting = lua.script(client, "routing_waiting")
        self._forget = lua.script(client, "routing_forget")
        self._reconcile = lua.script(client, "routing_reconcile")
        self._update = lua.script(client, "routing_update")
        self._touch = lua.script(client, "routing_touch")
        self._dispatch = lua.script(client, "routing_dispatch")
        self._accept = lua.script(client, "routing_accept")
        self._withdraw = lua.script(client, "routing_withdraw")
        self._release = lua.script(client, "routing_release")
        self._agent_gone = lua.script(client, "routing_agent_gone")
        self._auth_begin = lua.script(client, "routing_auth_begin")
        self._auth_end = lua.script(client, "routing_auth_end")

    # -- chats -------------------------------------------------------------

    async def open_chat(self, cid: str, sid: str, purpose: str, citizen: str) -> Chat:
        """A new chat joins the back of its purpose's queue (reserve() put it in the lifetime
        index before its room was made); returns the record as written, not read again."""
        now = _now_ms()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.chat(cid), mapping={
                "sid": sid, "purpose": purpose, "state": "queued", "citizen": citizen,
                "enqueued_ms": now, "alive_ms": now})
            pipe.expire(self.keys.chat(cid), self.record_ttl)
            pipe.zadd(self.keys.queue(purpose), {cid: now})
            pipe.sadd(self.keys.purposes(), purpose)  # 'lives': reserve() wrote it just before
            await pipe.execute()
        return Chat(id=cid, sid=sid, purpose=purpose, state="queued", citizen=citizen, agent="",
                    agent_full="", agent_nick="", enqueued_ms=now, assigned_ms=0, alive_ms=now)

    async def open_and_dispatch(self, cid: str, sid: str, purpose: str, citizen: str, *,
                                guest_key: str, session_ttl: int, no_agent_grace_ms: int
                                ) -> tuple[tuple[str, Chat | str | None, int | None, bool],
                                           tuple[list[OfferMade], list[str]]]:
        """A new chat for a claimed session, linked, queued and kept alive in one step
        (lua/routing_open.lua), then a dispatch, in one round trip (both scripts in one
        pipeline, run back to back): the new chat's offer is made before the claim is
        answered, and goes out right after it. The opening is ('opened', the record as
        written, queue position, whether this topic's citizens are told nobody is on duty:
        already, or now when nobody has served it for ``no_agent_grace_ms``), ('taken', the
        chat a concurrent claim linked first, None, False) or ('gone', None, None, False).
        A script Redis no longer holds (a restart empties its script cache) runs again on
        its own, which loads it; the dispatch then runs again too."""
        now = _now_ms()
        keys = self._open_keys(cid, sid, purpose, guest_key)
        args = self._open_args(cid, sid, purpose, citizen, now, session_ttl, no_agent_grace_ms)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.evalsha(self._open.sha, len(keys), *keys, *args)
            pipe.evalsha(self._dispatch.sha, 0, *self._dispatch_args())
            out, rows = await pipe.execute(raise_on_error=False)
        for result in (out, rows):
            if isinstance(result, Exception) and not isinstance(result, NoScriptError):
                raise result
        made, lost = ([], []) if isinstance(rows, Exception) else self._made(rows)
        reopened = isinstance(out, Exception)
        if reopened:  # the dispatch ran before the chat was queued
            out = await self._open(keys=keys, args=args)
        if reopened or isinstance(rows, Exception):
            more, more_lost = await self.dispatch()
            made, lost = made + more, lost + more_lost
        return self._opened(out, cid, sid, purpose, citizen, now), (made, lost)

    def _open_keys(self, cid: str, sid: str, purpose: str, guest_key: str) -> list[str]:
        k = self.keys
        return [k.session(sid), k.chat(cid), k.queue(purpose), k.purposes(), guest_key,
                k.told_off_duty(), k.duty(), k.off_duty()]

    def _open_args(self, cid: str, sid: str, purpose: str, citizen: str, now: int,
                   session_ttl: int, no_agent_grace_ms: int) -> list[str | int]:
        return [cid, sid, purpose, citizen, now, self.record_ttl, session_ttl,
                self.keys.attr_url(""), no_agent_grace_ms]

    @staticmethod
    def _opened(out: list[Any], cid: str, sid: str, purpose: str, citizen: str,
                now: int) -> tuple[str, Chat | str | None, int | None, bool]:
        kind = out[0].decode()
        if kind == "taken":
            return kind, out[1].decode(), None, False
        if kind == "gone":
            return kind, None, None, False
        chat = Chat(id=cid, sid=sid, purpose=purpose, state="queued", citizen=citizen, agent="",
                    agent_full="", agent_nick="", enqueued_ms=now, assigned_ms=0, alive_ms=now)
        return kind, chat, int(out[1]), bool(int(out[2]))

    def deadline_now(self) -> int:
        """The lifetime deadline of a chat being set up now (the lifetime index)."""
        return self._deadline(_now_ms())

    async def reserve(self, cid: str) -> None:
        """A chat being set up enters the lifetime index before its room exists."""
        await self.redis.zadd(self.keys.lives(), {cid: self._deadline(_now_ms())})

    def _deadline(self, now_ms: int) -> int:
        # A little before the session's own TTL runs out, so the sweeper ends the chat
        # while its session (and the attribute names for the audit) can still be read.
        return now_ms + self.chat_ttl * 1000 - min(2000, self.chat_ttl * 250)

    async def chat(self, cid: str) -> Chat | None:
        data = await self.redis.hgetall(self.keys.chat(cid))
        if not data:
            return None
        return _to_chat(cid, {k.decode(): v.decode() for k, v in data.items()})

    async def update(self, cid: str, **fields: str) -> bool:
        """Set fields of a chat that still exists; False when it has ended."""
        args = [x for kv in fields.items() for x in kv]
        return bool(await self._update(keys=[self.keys.chat(cid)], args=args))

    async def set_citizen(self, cid: str, citizen: str) -> None:
        await self.update(cid, citizen=citizen)

    async def touch(self, cid: str) -> None:
        """Activity: the chat lives another idle timeout (if it has not ended meanwhile),
        and its record says when (Chat.alive_ms)."""
        now = _now_ms()
        await self._touch(keys=[self.keys.chat(cid), self.keys.lives()],
                          args=[self.record_ttl, self._deadline(now), cid, now])

    async def due(self, limit: int = 200) -> list[str]:
        """Chats whose idle timeout has passed."""
        return [c.decode() for c in await self.redis.zrangebyscore(
            self.keys.lives(), "-inf", _now_ms(), start=0, num=limit)]

    async def forget(self, cid: str) -> None:
        """A chat without a record: its id out of every queue and index."""
        k = self.keys
        await self._forget(keys=[k.purposes(), k.offers(), k.gone(), k.lives(), k.declined(cid),
                                 k.transfers()],
                           args=[cid, k.queue("")])

    async def reconcile(self) -> list[str]:
        """Agents' load and pending offers recounted from the chats; returns who was off."""
        k = self.keys
        fixed = await self._reconcile(keys=[k.agents_known(), k.offers(), k.transfers(),
                                            k.agents(), k.duty(), k.agent_load(),
                                            k.agent_pending()],
                                      args=[k.agent(""), k.agent_chats(""), k.chat("")])
        return [a.decode() for a in fixed]

    async def place(self, cid: str, purpose: str) -> tuple[int | None, bool]:
        """(queue position, whether this topic's citizens were told nobody is on duty), in
        one round trip: what a claim's answer says."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrank(self.keys.queue(purpose), cid)
            pipe.sismember(self.keys.told_off_duty(), purpose)
            rank, told = await pipe.execute()
        return (None if rank is None else rank + 1), bool(told)

    async def position(self, cid: str, purpose: str) -> int | None:
        """1 = next in line; None when the chat is not waiting."""
        rank = await self.redis.zrank(self.keys.queue(purpose), cid)
        return None if rank is None else rank + 1

    async def queued(self, purpose: str) -> list[str]:
        return [c.decode() for c in await self.redis.zrange(self.keys.queue(purpose), 0, -1)]

    async def waiting(self, purpose: str) -> list[tuple[str, str, str]] | None:
        """(chat, citizen JID, state) of everyone waiting for this purpose, in queue order
        (a chat being offered keeps its place), in one step (lua/routing_waiting.lua); None
        when this topic's citizens were told nobody is on duty."""
        k = self.keys
        out = await self._waiting(keys=[k.queue(purpose), k.told_off_duty()],
                                  args=[purpose, k.chat("")])
        if out is None:
            return None
        return [(out[i].decode(), out[i + 1].decode(), out[i + 2].decode())
                for i in range(0, len(out), 3)]

    async def wind_up(self, chat: Chat, *, handling_ms: int | None, also: list[str]) -> tuple[int, int]:
        """An end's last step (lua/routing_wind_up.lua): the session with its attribute URLs,
        the keys ``also`` and the chat's record go; the handling time, if any, is sampled.
        Returns how many chats wait for this chat's topic, and for any topic."""
        k = self.keys
        here, anywhere = await self._wind_up(
            keys=[k.session(chat.sid), k.chat(chat.id), k.lives(), k.handling_times(), k.purposes()],
            args=[chat.id, k.attr_url(""), "" if handling_ms is None else handling_ms,
                  HANDLING_SAMPLES, k.queue(""), chat.purpose, *also])
        return int(here), int(anywhere)

    async def seconds_per_place(self, max_age: float = 0.0) -> float | None:
        """Expected wait per queue place: mean handling time over the agents' capacity.
        None while too few chats have been handled, or nobody is available. ``max_age``:
        an answer this instance worked out at most that many seconds ago will do (an
        estimate; a claim then costs no reads for it)."""
        now = time.monotonic()
        if max_age > 0 and self._per_place is not None and now - self._per_place[0] <= max_age:
            return self._per_place[1]
        value = await self._seconds_per_place()
        self._per_place = (now, value)
        return value

    async def _seconds_per_place(self) -> float | None:
        samples = [int(v) for v in await self.redis.lrange(self.keys.handling_times(), 0, -1)]
        if len(samples) < MIN_HANDLING_SAMPLES:
            return None
        capacity = sum(m for m, _ in await self._duty())
        if capacity == 0:
            return None
        return sum(samples) / len(samples) / 1000 / capacity

    async def all_purposes(self) -> list[str]:
        return sorted(p.decode() for p in await self.redis.smembers(self.keys.purposes()))

    async def release(self, cid: str, by: str) -> Released | None:
        """Take an ending chat out of routing; None when it was released already (or has
        no record)."""
        out = await self._release_as(cid, by, "")
        return out if isinstance(out, Released) else None

    async def release_by_agent(self, cid: str, agent: str) -> Released | str:
        """Agent ``agent`` ends chat ``cid``: it must be theirs, checked in the same step as
        the release. Instead of the release: 'gone' (no such chat), 'not-yours' (nothing
        changed), or 'ending' (released already)."""
        return await self._release_as(cid, "agent", agent)

    async def _release_as(self, cid: str, by: str, owner: str) -> Released | str:
        k = self.keys
        out = await self._release(
            keys=[k.chat(cid), k.declined(cid), k.offers(), k.gone(), k.lives(), k.transfers(),
                  k.agent_load(), k.agent_pending()],
            args=[cid, k.agent_chats(""), k.queue(""), k.offer(""), by,
                  _now_ms() + self.resume_ms, k.session(""), owner])
        if not out:
            return "gone"
        if out[0] != b"released":
            return str(out[0].decode())
        flat = out[2:]
        d = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        return Released(d.get("state", ""), d.get("offered_to", ""), d.get("offer", ""),
                        d.get("transfer_to", ""), d.get("transfer_offer", ""), d.get("agent", ""),
                        out[1].decode(), _to_chat(cid, d))

    async def stale(self, seconds: float) -> list[str]:
        """Ids in the lifetime index not touched for ``seconds``: a record missing for one
        of these is lost, not still being written."""
        limit = self._deadline(_now_ms()) - int(seconds * 1000)
        return [c.decode() for c in await self.redis.zrangebyscore(self.keys.lives(), "-inf", limit)]

    async def clear_interrupted(self, cid: str) -> bool:
        return bool(await self.redis.hdel(self.keys.chat(cid), "interrupted"))

    async def is_interrupted(self, cid: str) -> bool:
        return bool(await self.redis.hexists(self.keys.chat(cid), "interrupted"))

    # -- agents ------------------------------------------------------------

    async def agent_available(self, bare: str, full: str, max_chats: int, nick: str,
                              purposes: str = "*") -> bool:
        """On duty; True when the agent just came (back) on duty."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.agent(bare), mapping={"full": full, "max": max_chats,
                                                      "nick": nick, "purposes": purposes})
            pipe.hsetnx(self.keys.agent_last(), bare, 0)
            pipe.sadd(self.keys.agents(), bare)
            pipe.sadd(self.keys.agents_known(), bare)
            pipe.hset(self.keys.duty(), bare, f"{max_chats} {purposes}")
            added = (await pipe.execute())[2]
        if added:  # chats this agent refused before are theirs to take again
            await self.redis.hset(self.keys.agent(bare), "since", _now_ms())
        return bool(added)

    async def agent_busy(self, bare: str, full: str, max_chats: int, nick: str = "") -> None:
        """Present but taking no new chats (away, dnd): open chats go on. Their name is
        kept too (supervisors' overview, protocol §9), an empty one leaves it as it was."""
        mapping: dict[str, str | int] = {"full": full, "max": max_chats}
        if nick:
            mapping["nick"] = nick
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.agent(bare), mapping=mapping)
            pipe.srem(self.keys.agents(), bare)
            pipe.hdel(self.keys.duty(), bare)
            pipe.sadd(self.keys.agents_known(), bare)
            await pipe.execute()

    async def agent_leaving(self, bare: str, grace_seconds: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(self.keys.agents(), bare)
            pipe.hdel(self.keys.duty(), bare)
            pipe.zadd(self.keys.agents_leaving(), {bare: _now_ms() + grace_seconds * 1000})
            await pipe.execute()

    async def agent_returned(self, bare: str) -> None:
        await self.redis.zrem(self.keys.agents_leaving(), bare)

    async def agents_gone_too_long(self) -> list[str]:
        due = await self.redis.zrangebyscore(self.keys.agents_leaving(), "-inf", _now_ms())
        out = []
        for raw in due:
            if await self.redis.zrem(self.keys.agents_leaving(), raw):  # one instance wins
                out.append(raw.decode())
        return out

    async def withdraw_offers_of(self, bare: str) -> tuple[list[str], list[str]]:
        """Withdraw the agent's pending offers (their chats stay first in line, and going
        offline is no refusal); returns (chat ids, offer ids)."""
        chats, offers = [], []
        for raw in await self.redis.zrange(self.keys.offers(), 0, -1):
            cid = raw.decode()
            st = await self.redis.hmget(self.keys.chat(cid), ["offered_to", "offer"])
            if st[0] is not None and st[0].decode() == bare and st[1] is not None:
                if await self._withdraw(
                        keys=[self.keys.chat(cid), self.keys.declined(cid), self.keys.offers(),
                              self.keys.offer(st[1].decode()), self.keys.agent_pending()],
                        args=[st[1].decode(), "", self._declined_ttl(), cid, bare, 0]):
                    chats.append(cid)
                    offers.append(st[1].decode())
        return chats, offers

    async def agent_gone(self, bare: str) -> tuple[list[str], list[str]]:
        """Offline: returns (chats put back at the front, offer ids withdrawn)."""
        k = self.keys
        back, withdrawn = await self._agent_gone(
            keys=[k.agent_load(), k.agent_chats(bare), k.agents(), k.offers(), k.transfers(),
                  k.duty(), k.agent_pending()],
            args=[bare, k.chat(""), k.queue(""), k.offer(""), FRONT])
        return [c.decode() for c in back], [o.decode() for o in withdrawn]

    async def agent_chats(self, bare: str) -> list[str]:
        return sorted(c.decode() for c in await self.redis.smembers(self.keys.agent_chats(bare)))

    async def agent_info(self, bare: str) -> dict[str, str]:
        """The agent's own record: full JID, nick, max, purposes, since (not the counters:
        agent_figures)."""
        data = await self.redis.hgetall(self.keys.agent(bare))
        return {k.decode(): v.decode() for k, v in data.items()}

    async def purposes_on_duty(self) -> tuple[bool, set[str]]:
        """(someone serves every purpose, the purposes served) by the agents on duty."""
        served = [p for _, p in await self._duty()]
        if "*" in served:
            return True, set()
        return False, {p for entry in served for p in entry.split(",")}

    async def _duty(self) -> list[tuple[int, str]]:
        """(max chats, purposes) of every agent on duty, in one read."""
        out = []
        for raw in await self.redis.hvals(self.keys.duty()):
            max_chats, _, purposes = raw.decode().partition(" ")
            out.append((int(max_chats or 0), purposes))
        return out

    async def had_no_room(self, bares: list[str] | None) -> bool:
        """Whether any of these agents on duty, one of whose places an end has just freed,
        had no place free before it: only then can a waiting chat now go where it could not
        (an agent with room was offered every chat they could take already). True when
        ``bares`` is None (not known); one pipeline."""
        if bares is None:
            return True
        if not bares:
            return False
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(k.duty(), bares)
            pipe.hmget(k.agent_load(), bares)
            pipe.hmget(k.agent_pending(), bares)
            specs, loads, pendings = await pipe.execute()
        return any(spec is not None and int(load or 0) + int(pending or 0) + 1
                   >= int(spec.split(b" ", 1)[0] or 0)
                   for spec, load, pending in zip(specs, loads, pendings))

    async def any_agent_for(self, purpose: str) -> bool:
        every, served = await self.purposes_on_duty()
        return every or purpose in served

    # -- offers ------------------------------------------------------------

    async def dispatch(self, batch: int = 16) -> tuple[list[OfferMade], list[str]]:
        """Offer waiting chats to the best free agents, as many as fit. Returns the offers
        and the ids of chats found in a queue without a record (taken out of it)."""
        return self._made(await self._dispatch(args=self._dispatch_args(batch)))

    def _dispatch_args(self, batch: int = 16) -> list[str | int]:
        k = self.keys
        return [k.chat(""), k.queue(""), k.agent(""), k.declined(""), k.offer(""),
                k.duty(), k.purposes(), k.offers(), _now_ms(), self.offer_timeout_ms,
                self.reoffer_pause_ms, k.agent_load(), k.agent_pending(), k.agent_last(),
                *[f"of-{secrets.token_hex(12)}" for _ in range(batch)]]

    @staticmethod
    def _made(out: list[Any]) -> tuple[list[OfferMade], list[str]]:
        rows, lost = out
        return ([OfferMade(chat=r[0].decode(), agent=r[1].decode(), agent_full=r[2].decode(),
                           offer=r[3].decode(), purpose=r[4].decode(),
                           enqueued_ms=_arrival_ms(int(float(r[5].decode()))),
                           citizen=r[6].decode()) for r in rows],
                [c.decode() for c in lost])

    async def chat_of_offer(self, oid: str) -> str | None:
        cid = await self.redis.get(self.keys.offer(oid))
        return cid.decode() if cid else None

    async def accept(self, oid: str, bare: str, full: str, nick: str,
                     count: DayCount) -> Accepted | str | None:
        """Offer ``oid`` accepted by this agent (``nick``: their name when their record holds
        none): the chat, now theirs, as the acceptance left it (no read after it), with how
        many still wait for its topic; the chat id when ``oid`` is a transfer offer
        (component/transfers.py); None when the offer is not out to them any more. A chat
        answered for the first time counts in ``count``'s day, in the same step."""
        k = self.keys
        out = await self._accept(
            keys=[k.offer(oid), k.agent(bare), k.agent_chats(bare), k.offers(), k.agent_load(),
                  k.agent_pending(), k.agent_last(), k.day_stats(count.day),
                  k.day_waits(count.day)],
            args=[oid, bare, full, nick, _now_ms(), k.chat(""), k.queue(""), k.session(""),
                  count.service_level, count.samples, count.ttl])
        if not out:
            return None
        if out[0] == b"transfer":
            return str(out[1].decode())
        cid, sealed, flat = out[2].decode(), out[3].decode(), out[4:]
        chat = _to_chat(cid, {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)})
        return Accepted(chat, int(out[1]), sealed or None)

    async def decline(self, cid: str, oid: str, bare: str) -> bool:
        """Only the agent the offer went to can decline it."""
        return await self._withdraw_offer(cid, oid, deadline_check=False, agent=bare) == bare

    async def expire_offers(self) -> list[tuple[str, str, str]]:
        """Withdraw offers past their deadline: [(chat, offer, agent bare JID)]."""
        due = await self.redis.zrangebyscore(self.keys.offers(), "-inf", _now_ms())
        out = []
        for raw in due:
            cid = raw.decode()
            oid = await self.redis.hget(self.keys.chat(cid), "offer")
            if oid is None:
                await self.redis.zrem(self.keys.offers(), cid)
                continue
            agent = await self._withdraw_offer(cid, oid.decode(), deadline_check=True)
            if agent:
                out.append((cid, oid.decode(), agent))
        return out

    async def _withdraw_offer(self, cid: str, oid: str, *, deadline_check: bool,
                              agent: str = "") -> str | None:
        k = self.keys
        now = _now_ms()
        out = await self._withdraw(
            keys=[k.chat(cid), k.declined(cid), k.offers(), k.offer(oid), k.agent_pending()],
            args=[oid, str(now) if deadline_check else "", self._declined_ttl(), cid, agent, now])
        return out.decode() if out else None

    def _declined_ttl(self) -> int:
        """Refusals matter for the re-offer pause; the chat's end deletes them anyway."""
        return (self.reoffer_pause_ms + self.offer_timeout_ms) // 1000 + 60

    # -- authentication during the chat (docs/protocol.md §11) ---------------

    async def auth_begin(self, cid: str, agent: str, method: str, deadline_ms: int) -> str:
        out = await self._auth_begin(keys=[self.keys.chat(cid)], args=[agent, method, deadline_ms])
        return str(out.decode())

    async def auth_end(self, cid: str, attr: str = "") -> tuple[str, str] | None:
        """(method, attr id) of the request that this call ended; None when none was out."""
        out = await self._auth_end(keys=[self.keys.chat(cid)], args=[attr])
        return (out[0].decode(), out[1].decode()) if out else None

    # -- citizens gone -----------------------------------------------------

    async def citizen_presence(self, cid: str, occupant: str, present: bool, grace_seconds: int) -> bool:
        """The guest ``occupant`` (full JID) came into or left the chat's room: when it is
        the chat's citizen, the chat says so and the grace period starts or ends
        (lua/routing_presence.lua). False when the chat has no record or names another guest."""
        return bool(await self._presence(
            keys=[self.keys.chat(cid), self.keys.gone()],
            args=[cid, occupant, "1" if present else "0", _now_ms() + grace_seconds * 1000]))

    async def citizen_left(self, cid: str, grace_seconds: int) -> None:
        await self.redis.zadd(self.keys.gone(), {cid: _now_ms() + grace_seconds * 1000})

    async def grace_again(self, cid: str, grace_seconds: int) -> None:
        """A citizen who is away gets a fresh grace (only if away: nobody is marked gone)."""
        await self.redis.zadd(self.keys.gone(), {cid: _now_ms() + grace_seconds * 1000}, xx=True)

    async def citizen_back(self, cid: str) -> None:
        await self.redis.zrem(self.keys.gone(), cid)

    async def gone_too_long(self) -> list[str]:
        return [c.decode() for c in
                await self.redis.zrangebyscore(self.keys.gone(), "-inf", _now_ms())]

    async def all_chats(self) -> list[str]:
        """Every live chat id, from the lifetime index (records may have been lost)."""
        return [c.decode() for c in await self.redis.zrange(self.keys.lives(), 0, -1)]

    # -- who is on duty, per purpose -----------------------------------------

    async def duty_changed(self, purpose: str, on_duty: bool, grace_ms: int) -> str | None:
        """'off' when waiting citizens of this purpose must now hear that nobody is on
        duty, 'on' when they must hear they are queued again, else None (once each)."""
        k = self.keys
        if on_duty:
            if await self.redis.hdel(k.off_duty(), purpose) and \
                    await self.redis.srem(k.told_off_duty(), purpose):
                return "on"
            return None
        await self.redis.hsetnx(k.off_duty(), purpose, _now_ms())
        since = await self.redis.hget(k.off_duty(), purpose)
        if since is not None and _now_ms() - int(since) >= grace_ms and \
                await self.redis.sadd(k.told_off_duty(), purpose):
            return "off"
        return None

    async def told_off_duty(self, purpose: str) -> bool:
        return bool(await self.redis.sismember(self.keys.told_off_duty(), purpose))

    # -- who is on duty, and the agents' own records --------------------------------

    async def on_duty(self, bare: str) -> bool:
        return bool(await self.redis.sismember(self.keys.agents(), bare))

    async def agents_on_duty(self) -> list[str]:
        return [a.decode() for a in await self.redis.smembers(self.keys.agents())]

    async def agents_known(self) -> list[str]:
        """Every agent seen on duty or busy."""
        return [a.decode() for a in await self.redis.smembers(self.keys.agents_known())]

    async def is_leaving(self, bare: str) -> bool:
        """Whether the agent is in their grace after going offline (agent_leaving)."""
        return await self.redis.zscore(self.keys.agents_leaving(), bare) is not None

    async def agent_figures(self, bares: list[str]) -> list[tuple[str, int, int, int]]:
        """(nick, max, load, pending) of each agent, '' and 0 where unset; one pipeline."""
        if not bares:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for bare in bares:
                pipe.hmget(self.keys.agent(bare), ["nick", "max"])
            pipe.hmget(self.keys.agent_load(), bares)
            pipe.hmget(self.keys.agent_pending(), bares)
            *rows, loads, pendings = await pipe.execute()
        return [((nick or b"").decode(), int(most or 0), int(load or 0), int(pending or 0))
                for (nick, most), load, pending in zip(rows, loads, pendings)]

    async def agent_grant(self, bare: str) -> bytes | None:
        """The record of what the agent's current credential allows (component/grants.py)."""
        raw: bytes | None = await self.redis.get(self.keys.agent_grant(bare))
        return raw

    async def count_auth_request(self, bare: str) -> int:
        """Count one authentication request of this agent; their count this minute (§11)."""
        key = self.keys.auth_rate(bare)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 60, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    # -- transfers out (component/transfers.py) -------------------------------------

    async def transfer_offer(self, cid: str) -> str | None:
        """The id of the transfer offer out for this chat, if any."""
        value = await self.redis.hget(self.keys.chat(cid), "transfer_offer")
        return value.decode() if value is not None else None

    async def transfers_due(self) -> list[str]:
        """Chats whose transfer offer is past its deadline."""
        return [c.decode() for c in
                await self.redis.zrangebyscore(self.keys.transfers(), "-inf", _now_ms())]

    async def transfers_out(self) -> list[str]:
        """Every chat with a transfer offer out."""
        return [c.decode() for c in await self.redis.zrange(self.keys.transfers(), 0, -1)]

    # -- guests: the session each guest account claimed -----------------------------

    async def guest_session(self, bare: str) -> str | None:
        sid = await self.redis.get(self.keys.guest(bare))
        return sid.decode() if sid is not None else None

    async def set_guest_session(self, bare: str, sid: str, ttl: int) -> None:
        await self.redis.set(self.keys.guest(bare), sid, ex=ttl)

    async def keep_guest(self, bare: str, ttl: int) -> None:
        """The guest's claim lives another ``ttl`` seconds (with its chat's activity)."""
        await self.redis.expire(self.keys.guest(bare), ttl)

    async def forget_guest(self, bare: str) -> None:
        await self.redis.delete(self.keys.guest(bare))

    async def throttle(self, name: str, seconds: int) -> bool:
        """True at most once in ``seconds`` for ``name``, across the instances."""
        return bool(await self.redis.set(self.keys.active_throttle(name), 1, ex=seconds, nx=True))

    # -- Redis itself: the marker, lost records, liveness, leases --------------------

    async def marker(self) -> str | None:
        """The component's marker, set first if missing: a change means Redis lost its data."""
        key = self.keys.marker()
        current = await self.redis.get(key)
        if current is None:
            await self.redis.set(key, secrets.token_hex(8), nx=True)
            current = await self.redis.get(key)
        return current.decode() if current else None

    async def without_record(self, cids: list[str]) -> list[str]:
        """Those of ``cids`` that have no chat record (one pipeline)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.exists(self.keys.chat(cid))
            exists = await pipe.execute()
        return [cid for cid, found in zip(cids, exists) if not found]

    async def ping(self) -> None:
        await self.redis.ping()

    async def lease_holders(self, *names: str) -> list[bytes | None]:
        """The instance holding each lease (component/lease.py), None where none does."""
        holders: list[bytes | None] = await self.redis.mget([self.keys.lease(n) for n in names])
        return holders

    async def snapshot(self, max_purposes: int, max_agents: int) -> Snapshot:
        """Queues, agents, live chats and handling times, for the overview and the gauges."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.smembers(k.purposes())
            pipe.smembers(k.agents_known())
            pipe.smembers(k.agents())
            pipe.zcard(k.lives())
            pipe.lrange(k.handling_times(), 0, HANDLING_SAMPLES - 1)
            purposes_raw, known_raw, on_duty_raw, open_chats, samples = await pipe.execute()
        purposes = sorted(p.decode() for p in purposes_raw)[:max_purposes]
        on_duty = {a.decode() for a in on_duty_raw}
        jids = sorted({a.decode() for a in known_raw} | on_duty)[:max_agents]
        async with self.redis.pipeline(transaction=False) as pipe:
            for purpose in purposes:
                pipe.zcard(k.queue(purpose))
                pipe.zrange(k.queue(purpose), 0, 0, withscores=True)
            for jid in jids:
                pipe.hmget(k.agent(jid), ["max", "nick"])
            for counter in (k.agent_load(), k.agent_pending(), k.agent_last()):
                if jids:
                    pipe.hmget(counter, jids)
            rows = await pipe.execute()
        n = len(purposes)
        queues = [(int(rows[2 * i]), rows[2 * i + 1][0][1] if rows[2 * i + 1] else None)
                  for i in range(n)]
        records = rows[2 * n:2 * n + len(jids)]
        loads, pendings, lasts = rows[2 * n + len(jids):] or ([], [], [])
        agent_rows = [[most, load, pending, last, nick] for (most, nick), load, pending, last
                      in zip(records, loads, pendings, lasts)]
        return Snapshot(purposes, on_duty, jids, int(open_chats), [int(s) for s in samples],
                        queues, agent_rows)

    # -- supervisors: who watches, today's figures (component/supervision.py) ---------

    async def watching(self, full: str, now_ms: int) -> tuple[bool, int]:
        """(whether ``full`` watches, how many do), the watches run out by now dropped."""
        key = self.keys.watchers()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now_ms)
            pipe.zscore(key, full)
            pipe.zcard(key)
            _, already, count = await pipe.execute()
        return already is not None, int(count)

    async def watch(self, full: str, until_ms: int, key_ttl: int) -> None:
        await self.redis.zadd(self.keys.watchers(), {full: until_ms})
        await self.redis.expire(self.keys.watchers(), key_ttl)

    async def unwatch(self, full: str) -> None:
        await self.redis.zrem(self.keys.watchers(), full)

    async def watchers(self, limit: int) -> list[str]:
        """The full JIDs watching now, at most ``limit``."""
        return [w.decode() for w in await self.redis.zrangebyscore(
            self.keys.watchers(), _now_ms(), "+inf", start=0, num=limit)]

    async def count_abandoned(self, day: str, *, ttl: int) -> None:
        stats = self.keys.day_stats(day)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(stats, "abandoned", 1)
            pipe.expire(stats, ttl)
            await pipe.execute()

    async def day_figures(self, day: str) -> tuple[int, int, int, list[int]]:
        """(answered, abandoned, within the service level, waits in seconds) of ``day``."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self.keys.day_stats(day), ["answered", "abandoned", "within"])
            pipe.lrange(self.keys.day_waits(day), 0, -1)
            (answered, abandoned, within), waits = await pipe.execute()
        return int(answered or 0), int(abandoned or 0), int(within or 0), [int(w) for w in waits]


def _to_chat(cid: str, d: dict[str, str]) -> Chat:
    """A chat record (field -> value) as a Chat."""
    return Chat(id=cid, sid=d.get("sid", ""), purpose=d.get("purpose", ""),
                state=d.get("state", ""), citizen=d.get("citizen", ""),
                agent=d.get("agent", ""), agent_full=d.get("agent_full", ""),
                agent_nick=d.get("agent_nick", ""),
                enqueued_ms=int(d.get("enqueued_ms", 0)),
                assigned_ms=int(d.get("assigned_ms", 0) or 0),
                present=d.get("present") == "1", offer=d.get("offer", ""),
                offered_to=d.get("offered_to", ""), ready=d.get("ready") == "1",
                ended_from=d.get("ended_from", ""), ended_by=d.get("ended_by", ""),
                transfer_to=d.get("transfer_to", ""), transfer_offer=d.get("transfer_offer", ""),
                transferred_by=d.get("transferred_by", ""),
                transfer_note=d.get("transfer_note", ""), handed_from=d.get("handed_from", ""),
                auth_state=d.get("auth_state", ""), auth_method=d.get("auth_method", ""),
                auth_url=d.get("auth_url", ""), auth_attr=d.get("auth_attr", ""),
                auth_deadline_ms=int(d.get("auth_deadline", 0) or 0),
                alive_ms=int(d.get("alive_ms", 0) or 0))


def _arrival_ms(score: int) -> int:
    """A queue score back to the time of arrival (a chat put back in front keeps it)."""
    return score + FRONT if score < 0 else score


def _now_ms() -> int:
    return int(time.time() * 1000)

