"""Leases and the liveness mark in Redis, on a small client of their own: handler traffic
on the shared pool can never starve them, and a Redis error is told apart from a lease
that another instance holds.
"""

from __future__ import annotations

import enum
import time
from typing import Any, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from xmpp_plugin import lua
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import Keys, connect

CONNECTIONS = 3  # the heartbeat, the sweeper's lease, shutdown: never more at once

class LeaseState(enum.Enum):
    HELD = "held"        # ours, until now + seconds
    LOST = "lost"        # another instance holds it
    UNKNOWN = "unknown"  # Redis did not answer: ours until the last renewal runs out


class Leases:
    def __init__(self, redis: aioredis.Redis, keys: Keys, instance: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = redis
        self.keys = keys
        self.instance = instance
        self.clock = clock
        self._until: dict[str, float] = {}
        self._renew: Any = lua.script(redis, "lease_renew")

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys, instance: str) -> "Leases":
        r = settings.redis
        # A renewal must fail well within the lease, not wait out a long command timeout.
        timeout = max(0.5, min(r.timeout_seconds, settings.xmpp.lease_seconds / 4))
        # Its own small pool, from the one factory: the process's ACL user, and Sentinel
        # when configured, like every other client.
        return cls(connect(settings, timeout=timeout, max_connections=CONNECTIONS), keys, instance)

    async def renew(self, name: str, seconds: float) -> LeaseState:
        """Take or extend lease ``name`` for ``seconds``."""
        # Measured before the command: Redis starts the lease later, never earlier.
        started = self.clock()
        try:
            held = await self._renew(keys=[self.keys.lease(name)],
                                     args=[self.instance, int(seconds * 1000)])
        except RedisError:
            return LeaseState.UNKNOWN
        if held:
            self._until[name] = started + seconds
            return LeaseState.HELD
        self._until.pop(name, None)
        return LeaseState.LOST

    def remaining(self, name: str) -> float:
        """Seconds that lease ``name`` is certainly still ours (0 when it may not be)."""
        return max(0.0, self._until.get(name, 0.0) - self.clock())

    async def mark_alive(self, ttl: int) -> bool:
        """The liveness mark the HTTP service's /readyz reads; False when Redis failed."""
        try:
            await self.redis.set(self.keys.component_alive(), self.instance, ex=ttl)
        except RedisError:
            return False
        return True

    async def mark_gone(self) -> None:
        try:
            await self.redis.delete(self.keys.component_alive())
        except RedisError:
            pass

    async def close(self) -> None:
        await self.redis.aclose()
