"""The contact centre at a glance, read from Redis: queues per purpose, agents, open chats.

One read serves both the Prometheus gauges (component/metrics.py) and the supervisors'
overview (component/supervision.py). It holds no chat id, no citizen and no attribute:
only counts, ages and the agents' own figures. Its cost is bounded: at most
``max_purposes`` queues and ``max_agents`` agents, read in two pipelines (Router.snapshot).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .routing import FRONT, MIN_HANDLING_SAMPLES, Router

MAX_PURPOSES = 50
MAX_AGENTS = 500


@dataclass(frozen=True)
class QueueLoad:
    purpose: str
    waiting: int            # citizens in the queue (waiting or being offered)
    oldest_wait: float      # seconds the first in line has waited (0 when nobody waits)
    expected_wait: float | None  # what a citizen arriving now would be told (None: unknown)


@dataclass(frozen=True)
class AgentLoad:
    jid: str
    nick: str
    available: bool         # on duty: taking new chats
    open_chats: int
    offers: int             # offers out to them right now
    capacity: int           # max-chats they announced
    last_chat_ms: int       # when they last accepted a chat (0: not yet)


@dataclass(frozen=True)
class Overview:
    queues: tuple[QueueLoad, ...]
    agents: tuple[AgentLoad, ...]
    open_chats: int         # every live chat: waiting, offered or with an agent
    taken_ms: int

    @property
    def available(self) -> tuple[AgentLoad, ...]:
        return tuple(a for a in self.agents if a.available)


async def read(router: Router, *, max_purposes: int = MAX_PURPOSES,
               max_agents: int = MAX_AGENTS) -> Overview:
    now = int(time.time() * 1000)
    snap = await router.snapshot(max_purposes, max_agents)
    agents = tuple(_agent(jid, jid in snap.on_duty, row)
                   for jid, row in zip(snap.agents, snap.agent_rows))
    per_place = _seconds_per_place(snap.samples, sum(a.capacity for a in agents if a.available))
    queues = []
    for purpose, (waiting, first) in zip(snap.purposes, snap.queues):
        oldest = max(0.0, (now - _arrival_ms(int(first))) / 1000) if first is not None else 0.0
        queues.append(QueueLoad(purpose, waiting, oldest,
                                None if per_place is None else per_place * (waiting + 1)))
    return Overview(tuple(queues), agents, snap.open_chats, now)


def _agent(jid: str, available: bool, row: list[bytes | None]) -> AgentLoad:
    def num(v: bytes | None) -> int:
        try:
            return max(0, int(v)) if v is not None else 0
        except ValueError:
            return 0
    nick = row[4].decode() if row[4] else jid.split("@", 1)[0]
    return AgentLoad(jid=jid, nick=nick, available=available, open_chats=num(row[1]),
                     offers=num(row[2]), capacity=num(row[0]), last_chat_ms=num(row[3]))


def _seconds_per_place(samples: list[int], capacity: int) -> float | None:
    """As the router tells waiting citizens: mean handling time over the capacity on duty."""
    if len(samples) < MIN_HANDLING_SAMPLES or capacity == 0:
        return None
    return sum(samples) / len(samples) / 1000 / capacity


def _arrival_ms(score: int) -> int:
    """A queue score back to the arrival time (a chat put back in front keeps it)."""
    return score + FRONT if score < 0 else score
