"""The chat benchmark's verdicts on issue 15's targets, one run and over ``--repeat`` runs
(bench/chatbench/report.py): made from known numbers, so a wrong comparison or count shows."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from chatbench.report import comparison, repeat_summary, target_checks  # noqa: E402
from chatbench.runs import RunResult  # noqa: E402


def run(concurrency: int, kind: str = "idchat", *, rate: float = 50.0, p50: float = 14.0,
        p99: float = 300.0, cpu_ms: tuple[float, float, float, float] = (5.0, 5.0, 2.0, 1.0),
        loadgen_ms: float = 10.0, executed: float = 91.0, requests: float = 10.0) -> RunResult:
    xmpp, component, http, redis = cpu_ms
    r = RunResult(concurrency=concurrency, kind=kind, server="prosody", instances=1,
                  connected=1, agents=10, max_chats=20, warmup_s=3, planned_s=20)
    r.sessions_per_s, r.setup_p50_ms, r.setup_p99_ms = rate, p50, p99
    r.cpu_s_per_session = {"xmpp": xmpp / 1000, "load generator": loadgen_ms / 1000}
    if kind == "idchat":
        r.cpu_s_per_session.update(component=component / 1000, http=http / 1000, redis=redis / 1000)
        r.redis_calls_per_session = {"evalsha": 11.0, "hset": executed - 11.0}
        r.redis_requests_per_session = {"evalsha": requests}
        r.redis_sent_per_session = {"evalsha": requests}
    r.stanzas_per_session = {"clients in": 29.0, "clients out": 11.0}
    return r


def test_one_run_is_checked_against_each_target_at_its_concurrency() -> None:
    raw20 = run(20, "raw", rate=80.0)
    at20 = target_checks(run(20, rate=52.0, p99=249.0, cpu_ms=(6.0, 5.0, 2.0, 1.0)), raw20)
    assert at20 == {"servers_cpu": True, "redis_executed": False, "redis_requests": True,
                    "rate": True, "setup_p99": True}
    # 51.9 / 80 is under 0.65; 15.01 ms of CPU is over 15; p99 just over 250
    at20 = target_checks(run(20, rate=51.9, p99=250.5, cpu_ms=(6.0, 6.0, 2.0, 1.01),
                             executed=40.0, requests=41.0), raw20)
    assert at20 == {"servers_cpu": False, "redis_executed": True, "redis_requests": False,
                    "rate": False, "setup_p99": False}
    at1 = target_checks(run(1, p50=15.0, cpu_ms=(7.0, 7.0, 1.0, 0.0)), run(1, "raw"))
    assert at1 == {"servers_cpu": True, "redis_executed": False, "redis_requests": True,
                   "setup_p50": True}
    assert not target_checks(run(1, p50=15.1), run(1, "raw"))["setup_p50"]


def test_the_single_run_report_says_which_targets_are_met() -> None:
    text = comparison([run(1, "raw", rate=70.0)], [run(1, rate=40.0, executed=91.4)], "Prosody")
    assert "ID Chat at 0.57 × the raw rate" in text
    # 13 ms of the servers' CPU against 10 ms of the load generator's
    assert "and 1.30 × the load generator's own" in text
    assert ("Redis commands per chat ≤ 40 counted as the commands Redis executes (91.4, a Lua "
            "script's commands each) **NOT MET**") in text
    assert "servers' CPU per chat ≤ 15 ms **MET**" in text
    assert "setup p50 ≤ 15 ms **MET**" in text


def test_repeated_runs_give_median_range_and_how_many_met_each_target() -> None:
    cpus = [13.0, 17.0, 14.0, 19.0, 16.0]  # servers' CPU per chat at 1, run by run
    runs = []
    for i, cpu in enumerate(cpus):
        raw = [run(1, "raw", rate=70.0 + i), run(20, "raw", rate=80.0)]
        idchat = [run(1, rate=40.0 + i, cpu_ms=(cpu - 3.0, 1.0, 1.0, 1.0), loadgen_ms=cpu / 1.5),
                  run(20, rate=50.0 if i == 4 else 60.0, p99=240.0 if i == 2 else 260.0)]
        runs.append((raw, idchat))
    text = repeat_summary(runs, "Prosody")
    assert "Over 5 runs" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 | ID Chat |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "5"
    assert cells[3] == "42.0 (40.0–44.0)"       # chats/s
    assert cells[7] == "16.00 (13.00–19.00)"    # servers' CPU per chat
    assert cells[9] == "1.50 (1.50–1.50)"       # servers ÷ load generator
    assert "servers' CPU per chat ≤ 15 ms: met in 2 of 5" in text  # 13 and 14
    assert "setup p99 ≤ 250 ms: met in 1 of 5" in text            # run 3's 240 ms
    assert "≥ 0.65 × raw: met in 4 of 5" in text                  # run 5: 50 / 80


def test_an_even_number_of_runs_takes_the_middle_two_for_the_median() -> None:
    runs = [([], [run(1, rate=rate)]) for rate in (40.0, 44.0, 41.0, 50.0)]
    text = repeat_summary(runs, "ejabberd")
    row = next(line for line in text.splitlines() if line.startswith("| 1 | ID Chat |"))
    assert "| 42.5 (40.0–50.0) |" in row
    assert "issue 15 targets" not in text  # without the raw baseline nothing is checked
