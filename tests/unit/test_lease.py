"""Leases on their own client: held, lost to another instance, and unknown (Redis failed)
are three different answers; a lease is ours until the last renewal runs out."""

from __future__ import annotations

from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from component.lease import Leases, LeaseState
from xmpp_plugin.settings import Settings
from xmpp_plugin.store import Keys


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class FakeRedis:
    """The lease script's semantics over a dict, with expiry on the shared clock; ``down``
    makes every command fail as a lost connection would; ``delay`` is how long a command
    takes."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.data: dict[str, tuple[str, float]] = {}
        self.down = False
        self.delay = 0.0

    def _alive(self) -> None:
        if self.down:
            raise RedisConnectionError("connection refused")
        self.clock.now += self.delay
        self.data = {k: v for k, v in self.data.items() if v[1] > self.clock.now}

    def register_script(self, _script: str) -> Any:
        async def renew(keys: list[str], args: list[Any]) -> int:
            self._alive()
            key, owner, ms = keys[0], args[0], args[1]
            current = self.data.get(key)
            if current is None or current[0] == owner:
                self.data[key] = (owner, self.clock.now + ms / 1000)
                return 1
            return 0
        return renew

    async def set(self, key: str, value: str, ex: int) -> None:
        self._alive()
        self.data[key] = (value, self.clock.now + ex)

    async def delete(self, key: str) -> None:
        self._alive()
        self.data.pop(key, None)


def pair() -> tuple[Clock, FakeRedis, Leases, Leases]:
    clock = Clock()
    redis = FakeRedis(clock)
    keys = Keys("idchat-test")
    return clock, redis, Leases(redis, keys, "a", clock), Leases(redis, keys, "b", clock)  # type: ignore[arg-type]


async def test_held_then_lost_to_another_instance_after_it_expires() -> None:
    clock, _, a, b = pair()
    assert await a.renew("connection", 10) is LeaseState.HELD
    assert await b.renew("connection", 10) is LeaseState.LOST
    assert a.remaining("connection") == 10
    clock.now += 11                                     # a stopped renewing
    assert await b.renew("connection", 10) is LeaseState.HELD
    assert await a.renew("connection", 10) is LeaseState.LOST
    assert a.remaining("connection") == 0


async def test_a_redis_error_is_unknown_and_the_lease_stays_ours_until_it_runs_out() -> None:
    clock, redis, a, _ = pair()
    assert await a.renew("connection", 10) is LeaseState.HELD
    redis.down = True
    clock.now += 4
    assert await a.renew("connection", 10) is LeaseState.UNKNOWN   # not "lost"
    assert a.remaining("connection") == 6                # counted from the last renewal
    clock.now += 6
    assert await a.renew("connection", 10) is LeaseState.UNKNOWN
    assert a.remaining("connection") == 0                # now it may be someone else's
    redis.down = False
    assert await a.renew("connection", 10) is LeaseState.HELD


async def test_the_lease_is_counted_from_before_the_command() -> None:
    clock, redis, a, _ = pair()
    redis.delay = 1.5                                    # a slow answer
    assert await a.renew("connection", 10) is LeaseState.HELD
    assert a.remaining("connection") == 8.5              # never more than Redis grants


async def test_liveness_reports_failure_instead_of_raising() -> None:
    clock, redis, a, _ = pair()
    assert await a.mark_alive(15)
    assert redis.data["idchat-test:component:alive"][0] == "a"
    redis.down = True
    assert not await a.mark_alive(15)
    await a.mark_gone()                                  # no exception either


def test_the_lease_client_is_small_and_fails_fast() -> None:
    leases = Leases.from_settings(Settings(), Keys("idchat"), "a")
    pool = leases.redis.connection_pool
    assert pool.max_connections <= 3
    timeout = pool.connection_kwargs["socket_timeout"]
    assert timeout <= Settings().xmpp.lease_seconds / 4
