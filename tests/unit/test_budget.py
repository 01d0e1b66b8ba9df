"""The per-sender budget: token buckets, refusals then drops, in-flight caps, a bounded table."""

from __future__ import annotations

import pytest

from component.budget import Budget, Rule, Verdict
from xmpp_plugin.settings import BudgetSettings

GUEST = "b3a1@guest.idchat.localhost"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def budget(clock: Clock, *, rate: float = 2.0, burst: int = 10, refusals: int = 5,
           in_flight: int = 2, total: int = 4, senders: int = 100) -> Budget:
    return Budget({"guest": Rule(rate, burst, refusals, in_flight),
                   "agent": Rule(rate * 10, burst * 10, refusals, in_flight * 4)},
                  total, senders, clock=clock)


def charge_many(b: Budget, n: int, key: str = GUEST, kind: str = "guest",
                answerable: bool = True) -> list[Verdict]:
    return [b.charge(key, kind, answerable) for _ in range(n)]


def test_a_burst_passes_then_a_few_are_refused_then_the_rest_dropped() -> None:
    b = budget(Clock(), burst=10, refusals=5)
    verdicts = charge_many(b, 100)
    assert verdicts[:10] == [Verdict.ADMIT] * 10
    assert verdicts[10:15] == [Verdict.REFUSE] * 5
    assert verdicts[15:] == [Verdict.DROP] * 85
    assert (b.refused, b.dropped) == (5, 85)


def test_the_bucket_refills_at_its_rate_and_a_flooder_recovers_only_after_slowing_down() -> None:
    clock = Clock()
    b = budget(clock, rate=2.0, burst=10, refusals=5)
    charge_many(b, 40)                                  # deep in debt: floor at -5
    clock.now += 1.0                                    # +2 tokens: -3, still in debt
    assert b.charge(GUEST, "guest") is Verdict.REFUSE   # answered, but not handled
    clock.now += 3.5                                    # -4 + 7 = 3 tokens
    assert charge_many(b, 4) == [Verdict.ADMIT] * 3 + [Verdict.REFUSE]


def test_a_steady_flood_gets_about_rate_answers_per_second_never_more() -> None:
    clock = Clock()
    b = budget(clock, rate=2.0, burst=10, refusals=5)
    answered = 0
    for _ in range(10 * 1000):                          # 1000 stanzas/s for 10 s
        clock.now += 0.001
        answered += b.charge(GUEST, "guest") is not Verdict.DROP
    assert answered <= 10 + 5 + 2 * 10 + 1              # burst + refusals + rate × time


def test_unanswerable_stanzas_over_budget_are_dropped_not_refused() -> None:
    b = budget(Clock(), burst=3, refusals=5)
    assert charge_many(b, 10, answerable=False) == [Verdict.ADMIT] * 3 + [Verdict.DROP] * 7
    assert (b.refused, b.dropped) == (0, 7)


def test_each_sender_has_its_own_bucket_and_agents_a_larger_one() -> None:
    b = budget(Clock(), burst=10)
    charge_many(b, 50)
    assert b.charge("juliet@guest.idchat.localhost", "guest") is Verdict.ADMIT
    assert charge_many(b, 100, "romeo@agents.idchat.localhost", "agent") == [Verdict.ADMIT] * 100


def test_in_flight_caps_per_sender_and_in_total() -> None:
    b = budget(Clock(), in_flight=2, total=4)
    assert [b.start(GUEST, "guest") for _ in range(3)] == [Verdict.ADMIT] * 2 + [Verdict.REFUSE]
    assert b.start("juliet@guest.idchat.localhost", "guest") is Verdict.ADMIT
    assert b.start("nurse@guest.idchat.localhost", "guest") is Verdict.ADMIT
    assert b.in_flight == 4
    assert b.start("friar@guest.idchat.localhost", "guest") is Verdict.REFUSE   # total cap
    assert b.start("friar@guest.idchat.localhost", "guest", answerable=False) is Verdict.DROP
    b.finish(GUEST)
    assert b.in_flight == 3
    assert b.start("friar@guest.idchat.localhost", "guest") is Verdict.ADMIT
    assert (b.admitted, b.refused, b.dropped) == (5, 2, 1)


def test_the_table_of_senders_stays_bounded_and_keeps_busy_senders() -> None:
    clock = Clock()
    b = budget(clock, senders=100, total=4)
    assert b.start(GUEST, "guest") is Verdict.ADMIT     # busy: must never be forgotten
    charge_many(b, 30, "tybalt@guest.idchat.localhost")  # in debt, then quiet
    for i in range(50_000):
        b.charge(f"g{i}@guest.idchat.localhost", "guest")
    assert b.senders <= 100
    b.finish(GUEST)
    assert b.in_flight == 0
    assert b.start(GUEST, "guest") is Verdict.ADMIT     # its in-flight count was kept
    assert b.start(GUEST, "guest") is Verdict.ADMIT
    assert b.start(GUEST, "guest") is Verdict.REFUSE
    # The quiet one was forgotten: back with a full bucket, as it would have refilled.
    assert b.charge("tybalt@guest.idchat.localhost", "guest") is Verdict.ADMIT


def test_settings_make_guests_stricter_than_agents() -> None:
    b = Budget.from_settings(BudgetSettings())
    guest, agent = b.rules["guest"], b.rules["agent"]
    assert guest.rate < agent.rate and guest.burst < agent.burst
    assert guest.in_flight < agent.in_flight
    assert b.rules["room"].refusals == 0 and b.rules["room"].in_flight == 1


def test_a_table_smaller_than_the_in_flight_cap_is_refused() -> None:
    with pytest.raises(ValueError):
        Budget({"guest": Rule(1, 1, 1, 1)}, in_flight=10, senders=10)


def test_idle_senders_are_forgotten_once_their_bucket_refilled_busy_and_indebted_ones_kept() -> None:
    clock = Clock()
    b = budget(clock, rate=2.0, burst=10, refusals=5, senders=100)
    for i in range(50):                                  # fifty guests come by once
        b.charge(f"g{i}@guest.idchat.localhost", "guest")
    charge_many(b, 20, key="flooder@guest.idchat.localhost")      # in debt: -5
    assert b.start("busy@guest.idchat.localhost", "guest") is Verdict.ADMIT  # a handler runs
    assert b.senders == 52
    clock.now += 0.4                                     # +0.8 tokens: nobody refilled yet
    assert b.forget_idle() == 0 and b.senders == 52
    clock.now += 0.2                                     # the once-seen guests are full again
    assert b.forget_idle() == 50
    assert b.senders == 2                                # the flooder and the busy one
    clock.now += 10                                      # the flooder has long recovered
    assert b.forget_idle() == 1 and b.senders == 1       # the busy one stays while it runs
    b.finish("busy@guest.idchat.localhost")
    assert b.forget_idle() == 1 and b.senders == 0
    # Forgotten is as if never seen: a full bucket.
    assert charge_many(b, 10, key="flooder@guest.idchat.localhost") == [Verdict.ADMIT] * 10
