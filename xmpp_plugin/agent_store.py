"""Agents signed in with OpenID Connect: sign-ins under way (sealed into the browser's
cookie, ten minutes; nothing in Redis), and in Redis the console sessions (sealed, idle
and absolute lifetime) and the grants the component reads (what the current XMPP
credential allows, until it expires).

Only what is needed is kept: the XMPP user name, roles, topics and the provider's refresh
token, sealed with ``store.attributes_key``; never a name, an e-mail address or a group
list. Session cookies are stored as SHA-256 hashes: Redis never holds one that works.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis
from cryptography.exceptions import InvalidTag

from .oidc import LoginRequest
from .store import Keys, Sealer, _redis_errors

LOGIN_TTL = 600
LOGIN_AD = "idchat-oidc-login"  # associated data: a session record never opens as a login


@dataclass(frozen=True)
class AgentSession:
    username: str
    jid: str
    roles: tuple[str, ...]
    purposes: tuple[str, ...] | None
    refresh_token: str
    started: int  # unix seconds
    checked: int = 0  # when the provider last confirmed the agent (unix seconds)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AgentSession":
        purposes = data.get("purposes")
        return cls(username=data["username"], jid=data["jid"], roles=tuple(data["roles"]),
                   purposes=None if purposes is None else tuple(purposes),
                   refresh_token=data["refresh_token"], started=int(data["started"]),
                   checked=int(data.get("checked", 0)))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class AgentStore:
    def __init__(self, client: aioredis.Redis, *, prefix: str, seal_key: bytes,
                 idle_ttl: int, max_ttl: int) -> None:
        self.redis = client
        self.keys = Keys(prefix)
        self._sealer = Sealer(seal_key)
        self.idle_ttl = idle_ttl
        self.max_ttl = max_ttl

    def login_cookie(self, login: LoginRequest) -> str:
        """The sign-in under way, sealed into the browser's own cookie: nothing is stored
        for a visitor who merely starts a sign-in."""
        return self._sealer.seal(LOGIN_AD, {"state": login.state, "nonce": login.nonce,
                                            "verifier": login.verifier, "at": int(time.time())})

    def login_from_cookie(self, cookie: str, state: str) -> LoginRequest | None:
        """The sign-in for ``state``, from the cookie of the browser that began it, for ten
        minutes; None otherwise (another browser, a stale or forged cookie)."""
        try:
            record = self._sealer.open(LOGIN_AD, cookie)
        except (InvalidTag, ValueError, TypeError, KeyError, binascii.Error):
            return None
        if not hmac.compare_digest(str(record.get("state", "")), state) \
                or not 0 <= time.time() - record.get("at", 0) <= LOGIN_TTL:
            return None
        return LoginRequest(state=state, nonce=record["nonce"], verifier=record["verifier"])

    @_redis_errors
    async def create_session(self, cookie: str, session: AgentSession) -> None:
        await self._write(cookie, session)

    @_redis_errors
    async def session(self, cookie: str) -> AgentSession | None:
        key = self.keys.agent_session(_hash(cookie))
        raw = await self.redis.get(key)
        if raw is None:
            return None
        session = AgentSession.from_dict(self._sealer.open(key, raw.decode()))
        if time.time() - session.started > self.max_ttl:
            await self.redis.delete(key)
            return None
        return session

    @_redis_errors
    async def update_session(self, cookie: str, session: AgentSession) -> None:
        """Written back after a renewal: the idle lifetime starts again (never past the max)."""
        await self._write(cookie, session)

    async def _write(self, cookie: str, session: AgentSession) -> None:
        key = self.keys.agent_session(_hash(cookie))
        left = self.max_ttl - int(time.time() - session.started)
        await self.redis.set(key, self._sealer.seal(key, asdict(session)),
                             ex=max(1, min(self.idle_ttl, left)))

    @_redis_errors
    async def end_session(self, cookie: str, jid: str | None) -> None:
        """Sign-out, or a refused renewal: the session and the grant go at once."""
        keys = [self.keys.agent_session(_hash(cookie))]
        if jid:
            keys.append(self.keys.agent_grant(jid))
        await self.redis.delete(*keys)

    @_redis_errors
    async def grant(self, session: AgentSession, expires: int) -> None:
        """What the credential just issued allows, until it expires (the component reads it)."""
        record = {"roles": list(session.roles),
                  "purposes": None if session.purposes is None else list(session.purposes),
                  "exp": expires}
        await self.redis.set(self.keys.agent_grant(session.jid), json.dumps(record),
                             exat=expires)
