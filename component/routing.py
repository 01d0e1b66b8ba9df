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
import redis.asyncio as aioredis

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


# KEYS: -. ARGV: prefixes (chat, queue, agent, declined, offer), agents set, purposes set,
# offers zset, now_ms, timeout_ms, then fresh offer ids.
_DISPATCH = """
local chat_p, queue_p, agent_p, declined_p, offer_p = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local agents_k, purposes_k, offers_k = ARGV[6], ARGV[7], ARGV[8]
local now, timeout = tonumber(ARGV[9]), tonumber(ARGV[10])
local ids = {}
for i = 11, #ARGV do ids[#ids + 1] = ARGV[i] end
local agents = redis.call('SMEMBERS', agents_k)
if #agents == 0 then return {} end
local cands = {}
for _, pu in ipairs(redis.call('SMEMBERS', purposes_k)) do
  local q = redis.call('ZRANGE', queue_p .. pu, 0, 99, 'WITHSCORES')
  for i = 1, #q, 2 do cands[#cands + 1] = {q[i], tonumber(q[i + 1]), pu} end
end
table.sort(cands, function(a, b) return a[2] < b[2] end)
local out = {}
for _, c in ipairs(cands) do
  if #ids == 0 then break end
  local cid, pu = c[1], c[3]
  local ck = chat_p .. cid
  if redis.call('HGET', ck, 'state') == 'queued' then
    local best, bload, blast, bfull
    for _, a in ipairs(agents) do
      local info = redis.call('HMGET', agent_p .. a, 'max', 'load', 'pending', 'last', 'purposes', 'full')
      local used = (tonumber(info[2]) or 0) + (tonumber(info[3]) or 0)
      local serves = info[5] == '*' or (info[5] and string.find(',' .. info[5] .. ',', ',' .. pu .. ',', 1, true))
      if info[6] and used < (tonumber(info[1]) or 0) and serves
         and redis.call('SISMEMBER', declined_p .. cid, a) == 0 then
        local last = tonumber(info[4]) or 0
        if best == nil or used < bload or (used == bload and last < blast) then
          best, bload, blast, bfull = a, used, last, info[6]
        end
      end
    end
    if best then
      local oid = table.remove(ids)
      redis.call('HSET', ck, 'state', 'offered', 'offer', oid, 'offered_to', best)
      redis.call('HINCRBY', agent_p .. best, 'pending', 1)
      redis.call('ZADD', offers_k, now + timeout, cid)
      redis.call('SET', offer_p .. oid, cid, 'PX', timeout + 60000)
      out[#out + 1] = {cid, best, bfull, oid, pu, tostring(c[2])}
    end
  end
end
return out
"""

# KEYS: chat, agent, agent_chats, queue, offers, offer. ARGV: oid, agent bare, agent full, nick, now_ms
_ACCEPT = """
local st = redis.call('HMGET', KEYS[1], 'state', 'offer', 'offered_to')
if st[1] ~= 'offered' or st[2] ~= ARGV[1] or st[3] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'assigned', 'agent', ARGV[2], 'agent_full', ARGV[3],
           'agent_nick', ARGV[4], 'assigned_ms', ARGV[5])
redis.call('HDEL', KEYS[1], 'offer', 'offered_to')
redis.call('HINCRBY', KEYS[2], 'pending', -1)
redis.call('HINCRBY', KEYS[2], 'load', 1)
redis.call('HSET', KEYS[2], 'last', ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('ZREM', KEYS[4], ARGV[6])
redis.call('ZREM', KEYS[5], ARGV[6])
redis.call('DEL', KEYS[6])
return 1
"""

# Decline or time out one offer. KEYS: chat, declined, offers, offer. ARGV: oid, agent-key prefix,
# deadline check ('' or now_ms), ttl for the declined set. Returns the agent bare JID or false.
_WITHDRAW = """
local st = redis.call('HMGET', KEYS[1], 'state', 'offer', 'offered_to')
if st[1] ~= 'offered' or st[2] ~= ARGV[1] then return false end
if ARGV[3] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[3], ARGV[5])
  if deadline and tonumber(deadline) > tonumber(ARGV[3]) then return false end
end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'offer', 'offered_to')
redis.call('HINCRBY', ARGV[2] .. st[3], 'pending', -1)
redis.call('SADD', KEYS[2], st[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[5])
redis.call('DEL', KEYS[4])
return st[3]
"""

# Remove a chat from routing (it ended). KEYS: chat, declined, offers, gone.
# ARGV: cid, agent prefix, agent-chats prefix, queue prefix, offer prefix.
_RELEASE = """
local st = redis.call('HMGET', KEYS[1], 'state', 'agent', 'offered_to', 'purpose', 'offer')
if not st[1] then return false end
if st[1] == 'assigned' then
  redis.call('HINCRBY', ARGV[2] .. st[2], 'load', -1)
  redis.call('SREM', ARGV[3] .. st[2], ARGV[1])
elseif st[1] == 'offered' then
  redis.call('HINCRBY', ARGV[2] .. st[3], 'pending', -1)
  redis.call('DEL', ARGV[5] .. st[5])
end
redis.call('ZREM', ARGV[4] .. st[4], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
return st[1]
"""

# An agent is gone: their chats go back to the front of the queue, their offers
# are withdrawn. KEYS: agent, agent_chats, agents, offers. ARGV: bare, chat prefix,
# queue prefix, offer prefix, FRONT. Returns the chat ids put back and the ids of offers withdrawn.
_AGENT_GONE = """
redis.call('SREM', KEYS[3], ARGV[1])
local back = {}
for _, cid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local ck = ARGV[2] .. cid
  local st = redis.call('HMGET', ck, 'state', 'agent', 'purpose', 'enqueued_ms')
  if st[1] == 'assigned' and st[2] == ARGV[1] then
    redis.call('HSET', ck, 'state', 'queued', 'interrupted', '1')
    redis.call('HDEL', ck, 'agent', 'agent_full', 'agent_nick', 'assigned_ms')
    redis.call('ZADD', ARGV[3] .. st[3], tonumber(st[4]) - tonumber(ARGV[5]), cid)
    back[#back + 1] = cid
  end
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'load', 0, 'pending', 0)
local withdrawn = {}
for _, cid in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local ck = ARGV[2] .. cid
  local st = redis.call('HMGET', ck, 'state', 'offered_to', 'offer')
  if st[1] == 'offered' and st[2] == ARGV[1] then
    redis.call('HSET', ck, 'state', 'queued')
    redis.call('HDEL', ck, 'offer', 'offered_to')
    redis.call('ZREM', KEYS[4], cid)
    redis.call('DEL', ARGV[4] .. st[3])
    withdrawn[#withdrawn + 1] = st[3]
  end
end
return {back, withdrawn}
"""


class Router:
    """The routing state of all component instances, in Redis."""

    def __init__(self, client: aioredis.Redis, keys: Keys, *, offer_timeout: int,
                 chat_ttl: int) -> None:
        self.redis = client
        self.keys = keys
        self.offer_timeout_ms = offer_timeout * 1000
        self.chat_ttl = chat_ttl
        self._dispatch = client.register_script(_DISPATCH)
        self._accept = client.register_script(_ACCEPT)
        self._withdraw = client.register_script(_WITHDRAW)
        self._release = client.register_script(_RELEASE)
        self._agent_gone = client.register_script(_AGENT_GONE)

    # -- chats -------------------------------------------------------------

    async def open_chat(self, cid: str, sid: str, purpose: str, citizen: str) -> None:
        """A new chat joins the back of its purpose's queue."""
        now = _now_ms()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.chat(cid), mapping={
                "sid": sid, "purpose": purpose, "state": "queued", "citizen": citizen,
                "enqueued_ms": now})
            pipe.expire(self.keys.chat(cid), self.chat_ttl)
            pipe.zadd(self.keys.queue(purpose), {cid: now})
            pipe.sadd(self.keys.purposes(), purpose)
            await pipe.execute()

    async def chat(self, cid: str) -> Chat | None:
        data = await self.redis.hgetall(self.keys.chat(cid))
        if not data:
            return None
        d = {k.decode(): v.decode() for k, v in data.items()}
        return Chat(id=cid, sid=d.get("sid", ""), purpose=d.get("purpose", ""),
                    state=d.get("state", ""), citizen=d.get("citizen", ""),
                    agent=d.get("agent", ""), agent_full=d.get("agent_full", ""),
                    agent_nick=d.get("agent_nick", ""),
                    enqueued_ms=int(d.get("enqueued_ms", 0)),
                    assigned_ms=int(d.get("assigned_ms", 0) or 0))

    async def set_citizen(self, cid: str, citizen: str) -> None:
        await self.redis.hset(self.keys.chat(cid), "citizen", citizen)

    async def touch(self, cid: str) -> None:
        await self.redis.expire(self.keys.chat(cid), self.chat_ttl)

    async def position(self, cid: str, purpose: str) -> int | None:
        """1 = next in line; None when the chat is not waiting."""
        rank = await self.redis.zrank(self.keys.queue(purpose), cid)
        return None if rank is None else rank + 1

    async def queued(self, purpose: str) -> list[str]:
        return [c.decode() for c in await self.redis.zrange(self.keys.queue(purpose), 0, -1)]

    async def waiting(self, purpose: str) -> list[tuple[str, str]]:
        """(chat, citizen JID) of everyone waiting for this purpose, in queue order."""
        cids = await self.queued(purpose)
        async with self.redis.pipeline(transaction=False) as pipe:
            for cid in cids:
                pipe.hget(self.keys.chat(cid), "citizen")
            citizens = await pipe.execute()
        return [(cid, c.decode()) for cid, c in zip(cids, citizens) if c]

    async def record_handling(self, ms: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self.keys.handling_times(), ms)
            pipe.ltrim(self.keys.handling_times(), 0, HANDLING_SAMPLES - 1)
            await pipe.execute()

    async def seconds_per_place(self) -> float | None:
        """Expected wait per queue place: mean handling time over the agents' capacity.
        None while too few chats have been handled, or nobody is available."""
        samples = [int(v) for v in await self.redis.lrange(self.keys.handling_times(), 0, -1)]
        if len(samples) < MIN_HANDLING_SAMPLES:
            return None
        async with self.redis.pipeline(transaction=False) as pipe:
            for bare in await self.redis.smembers(self.keys.agents()):
                pipe.hget(self.keys.agent(bare.decode()), "max")
            capacity = sum(int(m) for m in await pipe.execute() if m)
        if capacity == 0:
            return None
        return sum(samples) / len(samples) / 1000 / capacity

    async def all_purposes(self) -> list[str]:
        return sorted(p.decode() for p in await self.redis.smembers(self.keys.purposes()))

    async def release(self, cid: str) -> str | None:
        """Take an ended chat out of routing; returns the state it was in."""
        k = self.keys
        state = await self._release(
            keys=[k.chat(cid), k.declined(cid), k.offers(), k.gone()],
            args=[cid, k.agent(""), k.agent_chats(""), k.queue(""), k.offer("")])
        return state.decode() if state else None

    async def clear_interrupted(self, cid: str) -> bool:
        return bool(await self.redis.hdel(self.keys.chat(cid), "interrupted"))

    async def is_interrupted(self, cid: str) -> bool:
        return bool(await self.redis.hexists(self.keys.chat(cid), "interrupted"))

    # -- agents ------------------------------------------------------------

    async def agent_available(self, bare: str, full: str, max_chats: int, nick: str,
                              purposes: str = "*") -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.agent(bare), mapping={"full": full, "max": max_chats,
                                                      "nick": nick, "purposes": purposes})
            pipe.hsetnx(self.keys.agent(bare), "last", 0)
            pipe.sadd(self.keys.agents(), bare)
            await pipe.execute()

    async def agent_busy(self, bare: str, full: str, max_chats: int) -> None:
        """Present but taking no new chats (away, dnd): open chats go on."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.agent(bare), mapping={"full": full, "max": max_chats})
            pipe.srem(self.keys.agents(), bare)
            await pipe.execute()

    async def agent_leaving(self, bare: str, grace_seconds: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(self.keys.agents(), bare)
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
        """Withdraw the agent's pending offers (their chats stay first in line)."""
        out = []
        for raw in await self.redis.zrange(self.keys.offers(), 0, -1):
            cid = raw.decode()
            st = await self.redis.hmget(self.keys.chat(cid), ["offered_to", "offer"])
            if st[0] is not None and st[0].decode() == bare and st[1] is not None:
                if await self._withdraw_offer(cid, st[1].decode(), deadline_check=False):
                    out.append(st[1].decode())
        return [], out

    async def agent_gone(self, bare: str) -> tuple[list[str], list[str]]:
        """Offline: returns (chats put back at the front, offer ids withdrawn)."""
        k = self.keys
        back, withdrawn = await self._agent_gone(
            keys=[k.agent(bare), k.agent_chats(bare), k.agents(), k.offers()],
            args=[bare, k.chat(""), k.queue(""), k.offer(""), FRONT])
        return [c.decode() for c in back], [o.decode() for o in withdrawn]

    async def agent_chats(self, bare: str) -> list[str]:
        return sorted(c.decode() for c in await self.redis.smembers(self.keys.agent_chats(bare)))

    async def agent_info(self, bare: str) -> dict[str, str]:
        data = await self.redis.hgetall(self.keys.agent(bare))
        return {k.decode(): v.decode() for k, v in data.items()}

    async def any_agent_for(self, purpose: str) -> bool:
        for bare in await self.redis.smembers(self.keys.agents()):
            info = await self.agent_info(bare.decode())
            if info.get("purposes") == "*" or purpose in info.get("purposes", "").split(","):
                return True
        return False

    # -- offers ------------------------------------------------------------

    async def dispatch(self, batch: int = 16) -> list[OfferMade]:
        """Offer waiting chats to the best free agents, as many as fit."""
        k = self.keys
        rows = await self._dispatch(args=[
            k.chat(""), k.queue(""), k.agent(""), k.declined(""), k.offer(""),
            k.agents(), k.purposes(), k.offers(), _now_ms(), self.offer_timeout_ms,
            *[f"of-{secrets.token_hex(12)}" for _ in range(batch)]])
        return [OfferMade(chat=r[0].decode(), agent=r[1].decode(), agent_full=r[2].decode(),
                          offer=r[3].decode(), purpose=r[4].decode(),
                          enqueued_ms=_arrival_ms(int(float(r[5].decode())))) for r in rows]

    async def chat_of_offer(self, oid: str) -> str | None:
        cid = await self.redis.get(self.keys.offer(oid))
        return cid.decode() if cid else None

    async def accept(self, cid: str, oid: str, bare: str, full: str, nick: str) -> bool:
        k = self.keys
        return bool(await self._accept(
            keys=[k.chat(cid), k.agent(bare), k.agent_chats(bare), k.queue(await self._purpose(cid)),
                  k.offers(), k.offer(oid)],
            args=[oid, bare, full, nick, _now_ms(), cid]))

    async def decline(self, cid: str, oid: str) -> str | None:
        return await self._withdraw_offer(cid, oid, deadline_check=False)

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

    async def _withdraw_offer(self, cid: str, oid: str, *, deadline_check: bool) -> str | None:
        k = self.keys
        agent = await self._withdraw(
            keys=[k.chat(cid), k.declined(cid), k.offers(), k.offer(oid)],
            args=[oid, k.agent(""), str(_now_ms()) if deadline_check else "", self.chat_ttl, cid])
        return agent.decode() if agent else None

    async def _purpose(self, cid: str) -> str:
        value = await self.redis.hget(self.keys.chat(cid), "purpose")
        return value.decode() if value else ""

    # -- citizens gone -----------------------------------------------------

    async def citizen_left(self, cid: str, grace_seconds: int) -> None:
        await self.redis.zadd(self.keys.gone(), {cid: _now_ms() + grace_seconds * 1000})

    async def citizen_back(self, cid: str) -> None:
        await self.redis.zrem(self.keys.gone(), cid)

    async def gone_too_long(self) -> list[str]:
        return [c.decode() for c in
                await self.redis.zrangebyscore(self.keys.gone(), "-inf", _now_ms())]

    async def all_chats(self) -> list[str]:
        """Every chat id with routing state (for the sweeper)."""
        out: list[str] = []
        async for key in self.redis.scan_iter(match=self.keys.chat("*"), count=500):
            out.append(key.decode().rsplit(":", 1)[1])
        return out


def _arrival_ms(score: int) -> int:
    """A queue score back to the time of arrival (a chat put back in front keeps it)."""
    return score + FRONT if score < 0 else score


def _now_ms() -> int:
    return int(time.time() * 1000)

