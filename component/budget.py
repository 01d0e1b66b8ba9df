"""Per-sender budgets: a token bucket per sender, caps on handlers running at once, a
bounded table of senders. Pure bookkeeping; component/admission.py applies it to stanzas.

A sender's bucket holds up to ``burst`` tokens and refills at ``rate`` per second; each
stanza costs one. Past its budget a sender goes into debt: the first ``refusals``
stanzas are *refused* (answered ``<resource-constraint/>``, type wait), every one after
that is *dropped* without an answer, so a flood is never amplified. Debt stops growing
at ``-refusals``; a sender that stops recovers in ``(refusals + 1) / rate`` seconds.
Nothing is ever queued: a stanza is admitted, refused or dropped at once.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Mapping

from xmpp_plugin.settings import BudgetSettings


class Verdict(enum.Enum):
    ADMIT = "admit"
    REFUSE = "refuse"  # answer <resource-constraint/> (type wait)
    DROP = "drop"      # no answer at all


@dataclass(frozen=True)
class Rule:
    rate: float      # tokens per second
    burst: int       # bucket size: stanzas a sender may send at once
    refusals: int    # stanzas past the budget that are still answered
    in_flight: int   # handlers of one sender running at once


class _Sender:
    __slots__ = ("tokens", "stamp", "running", "rule")

    def __init__(self, tokens: float, stamp: float, rule: Rule) -> None:
        self.tokens, self.stamp, self.running, self.rule = tokens, stamp, 0, rule


class Budget:
    """Senders by key (a bare JID, or a room), each of a kind with its :class:`Rule`.

    The table keeps at most ``senders`` entries: a new sender evicts the one seen least
    recently among those with nothing running (a sender with work running is never
    evicted, so the in-flight counts stay true; ``senders > in_flight`` guarantees room).
    An evicted sender comes back with a full bucket, which is what a quiet sender would
    have by then anyway.

    Counters, for tests and the log: ``admitted`` (handler runs started), ``refused``
    (answered ``<resource-constraint/>``), ``dropped`` (not answered).
    """

    def __init__(self, rules: Mapping[str, Rule], in_flight: int, senders: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if senders <= in_flight:
            raise ValueError("the table of senders must be larger than the in-flight cap")
        self.rules = dict(rules)
        self.max_in_flight = in_flight
        self.max_senders = senders
        self.clock = clock
        self.in_flight = 0
        self.admitted = self.refused = self.dropped = 0
        self._senders: OrderedDict[str, _Sender] = OrderedDict()

    @classmethod
    def from_settings(cls, limits: BudgetSettings) -> "Budget":
        r = limits.refusals
        return cls({"guest": Rule(limits.guest_rate, limits.guest_burst, r, limits.guest_in_flight),
                    "agent": Rule(limits.agent_rate, limits.agent_burst, r, limits.agent_in_flight),
                    # Room events are never answered; one at a time per room.
                    "room": Rule(limits.room_rate, limits.room_burst, 0, 1)},
                   limits.in_flight, limits.senders)

    @property
    def senders(self) -> int:
        return len(self._senders)

    def charge(self, key: str, kind: str, answerable: bool = True) -> Verdict:
        """One stanza against the sender's rate. ADMIT only lets it pass: the handler
        that acts on it still needs :meth:`start`."""
        rule = self.rules[kind]
        sender = self._sender(key, rule)
        now = self.clock()
        sender.tokens = min(rule.burst, sender.tokens + (now - sender.stamp) * rule.rate)
        sender.stamp = now
        if sender.tokens >= 1:
            sender.tokens -= 1
            return Verdict.ADMIT
        if sender.tokens >= 1 - rule.refusals:
            sender.tokens -= 1
            if answerable:
                self.refused += 1
                return Verdict.REFUSE
        self.dropped += 1
        return Verdict.DROP

    def start(self, key: str, kind: str, answerable: bool = True) -> Verdict:
        """A handler run for this sender, if its cap and the total cap allow; else REFUSE
        (DROP when the stanza cannot be answered). Every ADMIT needs one :meth:`finish`."""
        rule = self.rules[kind]
        sender = self._sender(key, rule)
        if sender.running < rule.in_flight and self.in_flight < self.max_in_flight:
            sender.running += 1
            self.in_flight += 1
            self.admitted += 1
            return Verdict.ADMIT
        if answerable:
            self.refused += 1
            return Verdict.REFUSE
        self.dropped += 1
        return Verdict.DROP

    def finish(self, key: str) -> None:
        self.in_flight -= 1
        sender = self._senders.get(key)
        if sender is not None and sender.running > 0:
            sender.running -= 1

    def _sender(self, key: str, rule: Rule) -> _Sender:
        sender = self._senders.get(key)
        if sender is not None:
            self._senders.move_to_end(key)
            return sender
        if len(self._senders) >= self.max_senders:
            self._evict()
        sender = self._senders[key] = _Sender(float(rule.burst), self.clock(), rule)
        return sender

    def forget_idle(self) -> int:
        """Drop the senders with nothing running whose bucket has refilled: they are as
        if never seen. Keeps the table (memory) to the senders active lately, instead of
        ``senders`` entries once that many JIDs have come by. Returns how many went."""
        now = self.clock()
        idle = [key for key, s in self._senders.items()
                if s.running == 0 and s.tokens + (now - s.stamp) * s.rule.rate >= s.rule.burst]
        for key in idle:
            del self._senders[key]
        return len(idle)

    def _evict(self) -> None:
        for key, sender in self._senders.items():  # noqa: B007 - least recently seen first; key is used below
            if sender.running == 0:
                break
        else:  # pragma: no cover - impossible while senders > in_flight
            raise RuntimeError("every tracked sender has work running")
        del self._senders[key]
