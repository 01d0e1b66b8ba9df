"""Two component instances on one ejabberd component domain, sharing only Redis:
20 citizens and 5 agents — nobody given twice, no capacity exceeded, nobody lost,
also when one instance is killed mid-run."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import pytest
import redis.asyncio as aioredis
from slixmpp.exceptions import IqError, IqTimeout

from actors import Agent, Citizen, Stack, start_server
from component.gateway import Gateway
from xmpp_plugin.settings import Settings

pytestmark = [pytest.mark.integration]


def started(settings: Settings, url: str) -> tuple[Gateway, aioredis.Redis]:
    client = aioredis.from_url(url, socket_timeout=10)
    gateway = Gateway(settings, client)
    gateway.start()
    return gateway, client


def kill(gateway: Gateway) -> None:
    """Like a crash: no goodbye, no clean-up in Redis."""
    gateway.stopping = True
    for task in gateway._tasks:
        task.cancel()
    gateway.abort()


async def stop_all(pairs: list[tuple[Gateway, aioredis.Redis]]) -> None:
    for gateway, client in pairs:
        if not gateway.stopping:
            await gateway.stop()
        await client.aclose()


class Ledger:
    """What the agents saw: every chat accepted once, never over capacity."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.accepted: dict[str, str] = {}
        self.active: dict[str, set[str]] = {}
        self.problems: list[str] = []

    def accept(self, agent: str, chat: str) -> None:
        if chat in self.accepted:
            self.problems.append(f"{chat} given twice")
        self.accepted[chat] = agent
        mine = self.active.setdefault(agent, set())
        mine.add(chat)
        if len(mine) > self.capacity:
            self.problems.append(f"{agent} over capacity")

    def end(self, agent: str, chat: str) -> None:
        self.active[agent].discard(chat)


async def auto_agent(agent: Agent, ledger: Ledger, stop: asyncio.Event) -> None:
    """Accept every offer at once, chat briefly, end."""
    seen = 0
    while not stop.is_set():
        await asyncio.sleep(0.05)
        fresh, seen = agent.headlines[seen:], len(agent.headlines)
        for msg in fresh:
            offer = msg["idchat_offer"]
            if not offer["id"]:
                continue
            try:
                accepted = (await agent.iq("idchat_accept", offer=offer["id"]))["idchat_accepted"]
                chats = [accepted["chat"]]
            except IqError:
                continue  # revoked or timed out: fine, someone else gets it
            except IqTimeout:
                # The instance that took our accept died: ask which chats are ours now,
                # as the console does after a lost answer.
                chats = [c for c in await agent.open_chats(ledger.capacity)
                         if c not in ledger.accepted]
            for chat in chats:
                ledger.accept(agent.jid.bare, chat)
                asyncio.ensure_future(_finish(agent, ledger, chat))


async def _finish(agent: Agent, ledger: Ledger, chat: str) -> None:
    await asyncio.sleep(0.3)
    ledger.end(agent.jid.bare, chat)
    for _ in range(5):
        try:
            await agent.iq("idchat_end", chat=chat)
            return
        except (IqError, IqTimeout):
            await asyncio.sleep(0.5)


async def served(stack: Stack, citizen: Citizen, sid: str, timeout: float = 60) -> str:
    """Claim (again, with a fresh ticket, as the page does after an error) until assigned."""
    deadline = asyncio.get_running_loop().time() + timeout
    claimed = None
    while claimed is None:
        try:
            claimed = await citizen.claim(await stack.store.issue_ticket(sid))
        except (IqError, IqTimeout):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
    await citizen.wait_for("idchat_status", lambda s: s["state"] == "ended", timeout=timeout)
    return claimed["chat"]


@pytest.fixture(scope="module")
def xmpp_server() -> Iterator[Any]:
    """ejabberd: it accepts several connections on one component domain."""
    server = start_server("ejabberd")
    yield server
    server.stop()


@pytest.mark.timeout(120)
async def test_two_instances_20_citizens_5_agents_one_killed(stack: Stack, redis_server: Any) -> None:
    second = started(stack.settings, redis_server.url)
    await asyncio.wait_for(second[0].online.wait(), 10)
    agents = [await stack.agent(name) for name in ("romeo", "mercutio", "benvolio")]
    agents += [await stack.agent(name) for name in ("tybalt", "paris")]
    ledger, stop = Ledger(capacity=2), asyncio.Event()
    workers = [asyncio.ensure_future(auto_agent(a, ledger, stop)) for a in agents]
    for agent in agents:
        await agent.available(max_chats=2)
    sids = [await stack.session() for _ in range(20)]
    citizens = [await stack.citizen() for _ in sids]
    runs = [asyncio.ensure_future(served(stack, c, s)) for c, s in zip(citizens, sids)]
    while len(ledger.accepted) < 6:
        await asyncio.sleep(0.1)
    kill(stack.gateway)                                   # one instance dies mid-run
    chats = await asyncio.gather(*runs)
    stop.set()
    await asyncio.gather(*workers)
    try:
        assert ledger.problems == []
        assert len(set(chats)) == 20 and set(chats) <= set(ledger.accepted)
        for agent in agents:
            k, bare = stack.store.keys, agent.jid.bare
            assert await stack.store.redis.hget(k.agent_load(), bare) == b"0"
            assert await stack.store.redis.hget(k.agent_pending(), bare) == b"0"
    finally:
        await stop_all([second])
