"""The session store in Redis: the one place that builds Redis keys.

Attributes are sealed with AES-256-GCM under ``store.attributes_key`` (a key of their
own, never the JWE key), bound to the session id as associated data, so no attribute
value is ever readable in Redis. Every multi-key change is one Lua script or one
MULTI transaction: a failure leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import functools
import json
import logging
import os
import secrets
import time
from typing import Any, Awaitable, Callable, Iterator, ParamSpec, TypeVar

import redis.asyncio as aioredis
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from . import events, faults, lua, metrics
from .errors import Conflict, Forbidden, NotFound, Unauthorized, Unavailable
from .models import AttributeStatus, AuthResult, Session, Source, StoredAttributes, session_ref
from .settings import Settings

log = logging.getLogger(__name__)


class TopicIsClosed(Exception):
    """A claim that would open a new chat for a topic outside its opening hours."""

    def __init__(self, purpose: str, sid: str) -> None:
        super().__init__("the topic is closed now")
        self.purpose, self.sid = purpose, sid

P = ParamSpec("P")
T = TypeVar("T")


# The time by which an HTTP request's Redis work must be done (loop time); unset elsewhere.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("idchat_redis_deadline",
                                                                         default=None)


@contextlib.contextmanager
def redis_budget(seconds: float) -> Iterator[None]:
    """All the store calls inside share ``seconds``: a slow Redis cannot make a request that
    needs several of them wait several timeouts (the HTTP service: redis.timeout_seconds)."""
    token = _deadline.set(asyncio.get_running_loop().time() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _redis_errors(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        deadline = _deadline.get()
        try:
            with metrics.redis_call():
                if deadline is None:
                    return await fn(*args, **kwargs)
                async with asyncio.timeout_at(deadline):
                    return await fn(*args, **kwargs)
        except RedisError as exc:
            raise Unavailable("the session store (Redis) is unavailable; nothing was changed") from exc
        except TimeoutError as exc:
            raise Unavailable("the session store (Redis) did not answer in time; "
                              "try again in a few seconds") from exc
    return wrapper


class _SentinelPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """The primary found through Sentinel; like BlockingConnectionPool, a command waits up
    to the timeout for a free connection instead of failing at once.

    redis-py asks the Sentinels only for a new connection. After a failover the old primary
    may stay a primary for seconds (a planned failover demotes it only seconds later), and
    what is written there then is lost: so while the pool is in use the Sentinels are asked
    again every ``CHECK_SECONDS``, in the background, and a change closes the connections
    to the old primary (idle ones at once, busy ones when they come back)."""

    CHECK_SECONDS = 0.5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked = 0.0
        self._checking: asyncio.Task[None] | None = None

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - self._checked > self.CHECK_SECONDS and self.master_address is not None and \
                (self._checking is None or self._checking.done()):
            self._checked = now
            self._checking = asyncio.ensure_future(self._check_primary())
        return await super().get_connection(*args, **kwargs)

    async def _check_primary(self) -> None:
        known = self.master_address
        try:
            current = await self.get_master_address()  # closes idle connections on a change
        except RedisError:
            return  # no Sentinel knows a primary now: commands fail and reconnect anyway
        if current != known:
            log.warning("Redis primary changed (Sentinel): reconnecting")
            await self.update_active_connections_for_reconnect()

    async def aclose(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
        try:
            await super().aclose()
        finally:
            await self.sentinel_manager.aclose()


REPLICA_WAIT_MS = 100     # how long a script waits for a replica to confirm it
UNCONFIRMED_PAUSE = 5.0   # after a miss, scripts do not wait for this long (seconds)


class _Replication:
    """One client's view of its replica: confirming, or not now."""

    def __init__(self) -> None:
        self.skip_until = 0.0
        self._warned = 0.0

    def missed(self) -> None:
        now = time.monotonic()
        self.skip_until = now + UNCONFIRMED_PAUSE
        if now - self._warned > 60:
            self._warned = now
            log.warning("no Redis replica confirmed a write within %d ms: a failover now would "
                        "lose the last writes (is the replica down or behind?)", REPLICA_WAIT_MS)


class _ConfirmedScript(AsyncScript):
    """A Lua script followed, on the same connection, by ``WAIT 1``: what it changed (and
    everything written before it) is on a replica before the caller acts on it, so a
    failover cannot take it back. Every routing decision and session change is a script."""

    def __init__(self, client: aioredis.Redis, script: Any, replication: _Replication) -> None:
        super().__init__(client, script)
        self._replication = replication

    async def __call__(self, keys: Any = None, args: Any = None, client: Any = None) -> Any:
        client = client if client is not None else self.registered_client
        if isinstance(client, Pipeline) or time.monotonic() < self._replication.skip_until:
            return await super().__call__(keys, args, client)
        async with client.pipeline(transaction=False) as pipe:
            await super().__call__(keys, args, pipe)
            pipe.execute_command("WAIT", 1, REPLICA_WAIT_MS)
            result, confirmed = await pipe.execute()
        if not confirmed:
            self._replication.missed()
        return result


class _ReplicatedRedis(aioredis.Redis):
    """The client on a Sentinel-watched primary: its scripts are confirmed by a replica."""

    replication: _Replication

    def register_script(self, script: Any) -> AsyncScript:
        return _ConfirmedScript(self, script, self.replication)


def connect(settings: Settings, *, read_timeout: float | None = None,
            timeout: float | None = None, max_connections: int | None = None) -> aioredis.Redis:
    """Every Redis client of both processes comes from here. Its pool waits for a free
    connection instead of failing at once; it logs in as this process's Redis ACL user when
    ``redis.username``/``password`` are set; with ``redis.sentinels`` it finds the primary
    through Sentinel (logging in to the Sentinels as the same user). ``timeout`` and
    ``max_connections`` default to the settings; ``read_timeout`` to ``timeout``."""
    r = settings.redis
    timeout = timeout or r.timeout_seconds
    kwargs: dict[str, Any] = dict(
        max_connections=max_connections or r.max_connections, timeout=timeout,
        socket_timeout=read_timeout or timeout, socket_connect_timeout=timeout,
        **r.credentials())
    if not r.sentinels:
        return aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(r.url, **kwargs))
    # No retries against a Sentinel that does not answer: the next one is asked instead.
    sentinel = Sentinel(r.sentinel_addresses(), sentinel_kwargs=dict(
        socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0),
        **r.credentials()))
    client = _ReplicatedRedis.from_pool(_SentinelPool(r.sentinel_service, sentinel, **kwargs))
    client.replication = _Replication()
    return client


# Sentinel's flags for a primary that is being replaced (SENTINEL MASTER <name>).
_FAILING_OVER = {"s_down", "o_down", "failover_in_progress"}


async def failover_state(client: aioredis.Redis) -> str | None:
    """With Sentinel: ``failing-over`` while any Sentinel sees the primary down or a
    failover in progress, ``stable`` otherwise, ``unknown`` when no Sentinel answers.
    Without Sentinel: None."""
    pool = client.connection_pool
    if not isinstance(pool, SentinelConnectionPool):
        return None
    sentinels = pool.sentinel_manager.sentinels
    answers = await asyncio.gather(
        *(s.sentinel_master(pool.service_name) for s in sentinels), return_exceptions=True)
    flags = [_flags(a.get("flags", "")) for a in answers if isinstance(a, dict)]
    if not flags:
        return "unknown"
    return "failing-over" if any(f & _FAILING_OVER for f in flags) else "stable"


def _flags(value: object) -> set[str]:
    return {str(f) for f in value} if isinstance(value, (set, list)) else set(str(value).split(","))


class Keys:
    """Redis key names: ``<prefix>:<entity>:<id>``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def session(self, sid: str) -> str:
        return f"{self.prefix}:session:{sid}"

    def attr_url(self, attr_id: str) -> str:
        return f"{self.prefix}:attrurl:{attr_id}"

    def auth_rate(self, bare: str) -> str:
        """An agent's authentication requests this minute (docs/protocol.md §11)."""
        return f"{self.prefix}:authrate:{bare}"

    def token(self, fingerprint: str) -> str:
        return f"{self.prefix}:token:{fingerprint}"

    def ticket(self, ticket: str) -> str:
        return f"{self.prefix}:ticket:{ticket}"

    def component_alive(self) -> str:
        return f"{self.prefix}:component:alive"

    # Routing state (component/routing.py). The Lua scripts there get these
    # names, or their prefixes for keys they build per item, as arguments.
    def chat(self, cid: str) -> str:
        return f"{self.prefix}:chat:{cid}"

    def queue(self, purpose: str) -> str:
        return f"{self.prefix}:queue:{purpose}"

    def purposes(self) -> str:
        return f"{self.prefix}:purposes"

    def agents(self) -> str:
        return f"{self.prefix}:agents"

    def duty(self) -> str:
        """Hash: every agent in agents() -> "<max> <purposes>", so that who serves what and the
        capacity on duty are one read, not one per agent (component/routing.py)."""
        return f"{self.prefix}:duty"

    def agent(self, bare: str) -> str:
        return f"{self.prefix}:agent:{bare}"

    # The agents' counters that change with every chat, one hash each (field = bare JID),
    # so that dispatch reads them for every agent on duty in one HMGET, not one per agent.
    def agent_load(self) -> str:
        """Hash: agent -> chats assigned to them now."""
        return f"{self.prefix}:agentload"

    def agent_pending(self) -> str:
        """Hash: agent -> offers out to them now (a transfer offered to them counts)."""
        return f"{self.prefix}:agentpending"

    def agent_last(self) -> str:
        """Hash: agent -> when they last took a chat (ms): the tie-break of dispatch."""
        return f"{self.prefix}:agentlast"

    def agents_leaving(self) -> str:
        return f"{self.prefix}:agentsleaving"

    def agent_chats(self, bare: str) -> str:
        return f"{self.prefix}:agentchats:{bare}"

    def declined(self, cid: str) -> str:
        return f"{self.prefix}:declined:{cid}"

    def offers(self) -> str:
        return f"{self.prefix}:offers"

    def offer(self, oid: str) -> str:
        return f"{self.prefix}:offer:{oid}"

    def transfers(self) -> str:
        """Chats being handed to a colleague, scored by when that offer runs out (ms)."""
        return f"{self.prefix}:transfers"

    def gone(self) -> str:
        return f"{self.prefix}:gone"

    def marker(self) -> str:
        """Set once by the component, never expiring: its absence means Redis lost its data."""
        return f"{self.prefix}:marker"

    def lives(self) -> str:
        """Every live chat, scored by its idle deadline (ms): the sweeper ends what is due."""
        return f"{self.prefix}:lives"

    def agents_known(self) -> str:
        """Every agent seen on duty or busy: whose load the sweeper may recount."""
        return f"{self.prefix}:agentsknown"

    def off_duty(self) -> str:
        """purpose -> since when (ms) nobody serving it has been on duty."""
        return f"{self.prefix}:offduty"

    def told_off_duty(self) -> str:
        """Purposes whose waiting citizens have been told that nobody is on duty."""
        return f"{self.prefix}:toldoffduty"

    def guest(self, bare_jid: str) -> str:
        return f"{self.prefix}:guest:{bare_jid}"

    def active_throttle(self, sid: str) -> str:
        return f"{self.prefix}:active:{sid}"

    def handling_times(self) -> str:
        """The last chats' handling times (ms), for the expected wait."""
        return f"{self.prefix}:stats:handling"

    def day_stats(self, day: str) -> str:
        """Today's figures for supervisors: counts only (answered, abandoned, within SL)."""
        return f"{self.prefix}:stats:day:{day}"

    def day_waits(self, day: str) -> str:
        """Today's waits until accept (whole seconds), for the median."""
        return f"{self.prefix}:stats:waits:{day}"

    def watchers(self) -> str:
        """Supervisors' full JIDs who asked for pushes, scored by when that ends (ms)."""
        return f"{self.prefix}:watchers"

    def lease(self, name: str) -> str:
        return f"{self.prefix}:lease:{name}"

    def iq_forward(self, instance: str) -> str:
        """Pub/sub channel: IQ replies that the server delivered to another instance."""
        return f"{self.prefix}:iqfwd:{instance}"

    def events(self) -> str:
        """A stream: the HTTP service adds, the component instances consume as one group
        (xmpp_plugin/events.py: the event kinds, the group, the bound)."""
        return f"{self.prefix}:{events.STREAM}"

    # Agents signed in with OpenID Connect (xmpp_plugin/agent_store.py).
    def agent_session(self, cookie_hash: str) -> str:
        """A signed-in console (sealed): who, roles, topics, the provider's refresh token."""
        return f"{self.prefix}:agentsession:{cookie_hash}"

    def agent_grant(self, bare: str) -> str:
        """What the agent's current XMPP credential allows (roles, topics), until it expires;
        the component's source of truth for an agent's role (component/routing.py)."""
        return f"{self.prefix}:agentgrant:{bare}"


class Sealer:
    """AES-256-GCM with a random 96-bit nonce; the session id is the associated data."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, sid: str, data: dict[str, Any]) -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, json.dumps(data).encode(), sid.encode())
        return base64.b64encode(nonce + ct).decode()

    def open(self, sid: str, sealed: str) -> dict[str, Any]:
        raw = base64.b64decode(sealed)
        return json.loads(self._aead.decrypt(raw[:12], raw[12:], sid.encode()))  # type: ignore[no-any-return]


class SessionStore:
    """Sessions, their single-use attribute URLs, accepted-token memory and claim tickets."""

    def __init__(self, client: aioredis.Redis, *, prefix: str, attributes_key: bytes,
                 ttl: int, ticket_ttl: int = 120, token_leeway: int = 0,
                 unclaimed_ttl: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = client
        self.keys = Keys(prefix)
        self._sealer = Sealer(attributes_key)
        self.ttl = ttl  # a session with a chat, after its last activity
        # ... and one without (never claimed): never longer than a chat's
        self.unclaimed_ttl = min(ttl, unclaimed_ttl if unclaimed_ttl is not None else ttl)
        self.ticket_ttl = ticket_ttl
        self._token_leeway = token_leeway
        self._clock = clock
        self._create = lua.script(client, "session_create")
        self._create_with_token = lua.script(client, "session_create_with_token")
        self._deliver = lua.script(client, "session_deliver")
        self._touch = lua.script(client, "session_touch")
        self._bind = lua.script(client, "session_bind")
        self._open_chat_auth = lua.script(client, "session_open_chat_auth")
        self._deliver_in_chat = lua.script(client, "session_deliver_in_chat")
        self._claim = lua.script(client, "session_claim")
        self._open_page = lua.script(client, "session_open_page")
        self._active = lua.script(client, "session_active")

    @classmethod
    def from_settings(cls, client: aioredis.Redis, settings: Settings) -> SessionStore:
        return cls(client, prefix=settings.redis.key_prefix,
                   attributes_key=settings.store.attributes_key_bytes(),
                   ttl=settings.store.session_ttl_seconds,
                   ticket_ttl=settings.store.ticket_ttl_seconds,
                   token_leeway=settings.tokens.leeway_seconds,
                   unclaimed_ttl=settings.store.unclaimed_ttl_seconds)

    @_redis_errors
    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def failover_state(self) -> str | None:
        """What the Sentinels say about the primary (:func:`failover_state`); None without."""
        return await failover_state(self.redis)

    @_redis_errors
    async def component_alive(self) -> bool:
        """Whether some component instance reported a live XMPP stream recently."""
        return bool(await self.redis.exists(self.keys.component_alive()))

    @_redis_errors
    async def mark_component_alive(self, instance: str, ttl: int) -> None:
        await self.redis.set(self.keys.component_alive(), instance, ex=ttl)

    @_redis_errors
    async def create(self, purpose: str, auth: AuthResult | None = None) -> Session:
        """A new session: with its attributes when ``auth`` came along, else with an attr_url id."""
        sid = secrets.token_urlsafe(32)
        now = int(self._clock())
        if auth is None:
            attr_id = secrets.token_urlsafe(32)
            await self._create(keys=[self.keys.session(sid), self.keys.attr_url(attr_id)],
                               args=[purpose, now, AttributeStatus.PENDING.value, attr_id,
                                     self.unclaimed_ttl, sid])
            return Session(sid, purpose, now, AttributeStatus.PENDING, attr_id)
        status = _status(auth)
        outcome = await self._create_with_token(
            keys=[self.keys.session(sid), self.keys.token(auth.fingerprint)],
            args=[purpose, now, status.value, self._seal(sid, auth, Source.AUTH_RESULT),
                  auth.fingerprint, self.unclaimed_ttl, sid, self._token_ttl(auth)])
        if outcome == b"replayed":
            raise Conflict("this token was already accepted for another session",
                           slug="token-replayed")
        _log_delivery(sid, auth, Source.AUTH_RESULT)
        return Session(sid, purpose, now, status)

    @_redis_errors
    async def session_for_attr_url(self, attr_id: str) -> str:
        sid = await self.redis.get(self.keys.attr_url(attr_id))
        if sid is None:
            raise NotFound("unknown or already used attr_url", slug="unknown-attr-url")
        return sid.decode()  # type: ignore[no-any-return]

    @_redis_errors
    async def deliver(self, sid: str, auth: AuthResult, source: Source,
                      *, via_attr_id: str | None = None) -> bool:
        """Store ``auth`` for a pending session. Returns False when this same token was
        already stored for this session (a harmless repeat)."""
        if via_attr_id and await self._chat_auth_id(sid) == via_attr_id:
            return await self._deliver_to_chat(sid, auth, via_attr_id)
        attr_key = self.keys.attr_url(via_attr_id) if via_attr_id else \
            self.keys.attr_url(await self._attr_id(sid) or "-")
        outcome = (await self._deliver(
            keys=[self.keys.session(sid), self.keys.token(auth.fingerprint), attr_key,
                  self.keys.events()],
            args=[sid, _status(auth).value, self._seal(sid, auth, source), auth.fingerprint,
                  self._token_ttl(auth), "1" if via_attr_id else "0",
                  *events.attributes_xadd_args(in_chat=False)])).decode()
        if outcome == "ok":
            faults.point("attributes.stored")
            _log_delivery(sid, auth, source)
            return True
        if outcome == "same":
            return False
        if outcome == "no-attr-url":
            raise NotFound("unknown or already used attr_url", slug="unknown-attr-url")
        if outcome == "no-session":
            raise NotFound("no such session", slug="unknown-session")
        if outcome == "replayed":
            raise Conflict("this token was already accepted for another session",
                           slug="token-replayed")
        raise Conflict("this session already holds attributes from another token",
                       slug="attributes-present")

    async def _deliver_to_chat(self, sid: str, auth: AuthResult, attr_id: str) -> bool:
        outcome = (await self._deliver_in_chat(
            keys=[self.keys.session(sid), self.keys.token(auth.fingerprint),
                  self.keys.attr_url(attr_id), self.keys.events()],
            args=[sid, _status(auth).value, self._seal(sid, auth, Source.IN_CHAT),
                  auth.fingerprint, self._token_ttl(auth), attr_id,
                  *events.attributes_xadd_args(in_chat=True)])).decode()
        if outcome == "ok":
            _log_delivery(sid, auth, Source.IN_CHAT)
            return True
        if outcome == "replayed":
            raise Conflict("this token was already accepted", slug="token-replayed")
        if outcome == "no-session":
            raise NotFound("no such session", slug="unknown-session")
        raise NotFound("unknown or already used attr_url", slug="unknown-attr-url")

    async def _chat_auth_id(self, sid: str) -> str | None:
        value = await self.redis.hget(self.keys.session(sid), "auth_attr_id")
        return value.decode() if value else None

    @_redis_errors
    async def open_chat_auth(self, sid: str) -> str:
        """A fresh, single-use attr_url id bound to this session's chat (§11); an earlier
        one of the session is dropped."""
        attr_id = secrets.token_urlsafe(32)
        if not await self._open_chat_auth(keys=[self.keys.session(sid), self.keys.attr_url(attr_id)],
                                          args=[sid, attr_id, self.ttl, self.keys.attr_url("")]):
            raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
        return attr_id

    @_redis_errors
    async def drop_chat_auth(self, sid: str, attr_id: str) -> None:
        """The chat's attr_url is no longer wanted (refused, withdrawn, expired)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.attr_url(attr_id))
            pipe.hdel(self.keys.session(sid), "auth_attr_id")
            await pipe.execute()

    async def _attr_id(self, sid: str) -> str | None:
        value = await self.redis.hget(self.keys.session(sid), "attr_id")
        return value.decode() if value else None

    @_redis_errors
    async def get(self, sid: str) -> Session:
        data = await self.redis.hmget(self.keys.session(sid),
                                      ["purpose", "created_at", "status", "attr_id"])
        if data[0] is None:
            raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
        return Session(sid, data[0].decode(), int(data[1]), AttributeStatus(data[2].decode()),
                       data[3].decode() if data[3] else None)

    @_redis_errors
    async def attributes(self, sid: str) -> StoredAttributes | None:
        """The decrypted attributes with provenance; None while still pending."""
        sealed = await self.redis.hget(self.keys.session(sid), "sealed")
        if sealed is None:
            if not await self.redis.exists(self.keys.session(sid)):
                raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
            return None
        return self.opened(sid, sealed.decode())

    @_redis_errors
    async def active(self, sid: str, seconds: int) -> StoredAttributes | None:
        """The attributes to tell ID Contact that the citizen of ``sid`` is active with, at
        most once in ``seconds`` over all instances; None when that was told within
        ``seconds``, while the attributes are pending, or when the session has ended."""
        sealed = await self._active(keys=[self.keys.session(sid), self.keys.active_throttle(sid)],
                                    args=[seconds])
        return self.opened(sid, sealed.decode()) if sealed else None

    def opened(self, sid: str, sealed: str | None) -> StoredAttributes | None:
        """Session ``sid``'s attributes from their sealed form as stored (read by a script
        that had the session at hand); None while they are pending."""
        if sealed is None:
            return None
        try:
            data = self._sealer.open(sid, sealed)
        except (InvalidTag, ValueError) as exc:
            raise Unavailable("stored attributes cannot be opened with the configured key") from exc
        return StoredAttributes(verified=data["verified"], attributes=data["attributes"],
                                session_url=data["session_url"], source=Source(data["source"]),
                                verified_at=data["verified_at"], received_at=data["received_at"])

    @_redis_errors
    async def touch(self, sid: str) -> bool:
        """Extend the idle timeout on activity; False when the session is gone."""
        return bool(await self._touch(keys=[self.keys.session(sid)],
                                      args=[self.ttl, self.keys.attr_url(""),
                                            self.unclaimed_ttl]))

    def seal_note(self, cid: str, note: str) -> str:
        """An agent's internal transfer note, encrypted like the attributes (bound to the chat)."""
        return self._sealer.seal(cid, {"note": note}) if note else ""

    def open_note(self, cid: str, sealed: str) -> str:
        if not sealed:
            return ""
        try:
            return str(self._sealer.open(cid, sealed)["note"])
        except (InvalidTag, ValueError, KeyError) as exc:
            raise Unavailable("a transfer note cannot be opened with the configured key") from exc

    @_redis_errors
    async def open_page(self, sid: str, cookie_hash: str, fresh_hash: str) -> tuple[Session, bool, str]:
        """The citizen's page is opened (lua/session_open_page.lua): the session bound to the
        first browser, kept alive and given a fresh claim ticket, for that browser only.
        Returns the session, whether the browser must be given the fresh cookie (it sent
        none that counts), and the ticket. NotFound for no session; Forbidden when another
        browser holds the chat (nothing changed). A cookie hash compared inside Redis is a
        hash of a secret, never the secret."""
        ticket = secrets.token_urlsafe(32)
        out = [v.decode() for v in await self._open_page(
            keys=[self.keys.session(sid), self.keys.ticket(ticket)],
            args=[cookie_hash, fresh_hash, self.ticket_ttl, self.ttl, self.keys.attr_url(""),
                  self.unclaimed_ttl, sid])]
        if out[0] == "gone":
            raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
        if out[0] == "other":
            raise Forbidden("this chat is already open in another browser", slug="chat-open-elsewhere")
        purpose, created, status, attr_id = out[2:6]
        session = Session(sid, purpose, int(created), AttributeStatus(status), attr_id or None)
        return session, out[1] == "fresh", ticket

    @_redis_errors
    async def bind_browser(self, sid: str, browser_hash: str) -> bool:
        """Bind the session to the first browser that opens it; True when ``browser_hash`` is it."""
        bound = await self._bind(keys=[self.keys.session(sid)], args=[browser_hash])
        if bound is None:
            raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
        return bool(bound and secrets.compare_digest(bound.decode(), browser_hash))

    @_redis_errors
    async def chat_of(self, sid: str) -> str | None:
        value = await self.redis.hget(self.keys.session(sid), "chat")
        return value.decode() if value else None

    @_redis_errors
    async def issue_ticket(self, sid: str) -> str:
        """A short-lived, single-use claim ticket for the citizen page (see docs/protocol.md)."""
        ticket = secrets.token_urlsafe(32)
        await self.redis.set(self.keys.ticket(ticket), sid, ex=self.ticket_ttl)
        return ticket

    @_redis_errors
    async def redeem(self, ticket: str, guest: str, *, new_chat: str, deadline_ms: int,
                     closed: list[str]) -> tuple[Session, str | None]:
        """A claim (docs/protocol.md §1), checked and redeemed in one step: the session, and
        the chat it already has (None: a new chat, whose id ``new_chat`` is now in the
        lifetime index with ``deadline_ms``). ``guest``: the claiming guest's bare JID;
        ``closed``: the topics outside their opening hours now. A refusal changes nothing:
        Unauthorized (ticket), Conflict (the guest claimed another chat), NotFound (the
        session ended), TopicIsClosed (a new chat for a closed topic)."""
        out = [v.decode() for v in await self._claim(
            keys=[self.keys.ticket(ticket), self.keys.guest(guest), self.keys.lives()],
            args=[self.keys.session(""), new_chat, deadline_ms, *closed])]
        if out[0] == "bad-ticket":
            raise Unauthorized("unknown, expired or already used ticket")
        if out[0] == "conflict":
            raise Conflict("this guest has already claimed another chat")
        if out[0] == "gone":
            raise NotFound("no such session; it may have ended or expired", slug="unknown-session")
        if out[0] == "closed":
            raise TopicIsClosed(out[1], out[2])
        sid, purpose, created, status, attr_id, chat = out[1:7]
        return Session(sid, purpose, int(created), AttributeStatus(status), attr_id or None), chat or None

    def _seal(self, sid: str, auth: AuthResult, source: Source) -> str:
        return self._sealer.seal(sid, {
            "verified": auth.verified, "attributes": auth.attributes,
            "session_url": auth.session_url, "source": source.value,
            "verified_at": auth.issued_at, "received_at": int(self._clock())})

    def _token_ttl(self, auth: AuthResult) -> int:
        return max(1, int(auth.expires_at + self._token_leeway - self._clock()) + 1)


def _log_delivery(sid: str, auth: AuthResult, source: Source) -> None:
    # Names and provenance only: never a value, a token or the session id itself.
    names = ",".join(sorted(auth.attributes)) or "-"
    log.info("session %s: details stored via %s, verified=%s, names=%s",
             session_ref(sid), source.value, auth.verified, names)


def _status(auth: AuthResult) -> AttributeStatus:
    return AttributeStatus.VERIFIED if auth.verified else AttributeStatus.NOT_VERIFIED
