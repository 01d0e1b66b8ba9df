"""The runs: load (a closed loop of whole sessions at a given concurrency, with CPU, Redis
commands and stanzas per session over the measured window) and memory (chats held open)."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import launcher
from benchlib import percentile, proc_cpu_seconds

from .actors import (
    Citizen,
    Hub,
    SessionTimes,
    close_agents,
    connect_agents,
    http_session,
)
from .clients import StepError, local_stanzas
from .common import (
    STEP_TIMEOUT,
    commands_per_session,
    cpu_snapshot,
    cpu_used,
    median,
    redis_commandstats,
    rss_kib,
)
from .stack import Stack


@dataclass
class RunResult:
    concurrency: int
    kind: str  # "idchat" (whole chats through ID Chat) or "raw" (the raw-XMPP baseline)
    server: str  # prosody or ejabberd
    instances: int  # component processes
    connected: int  # of them, connected to the XMPP server (at the end of the run)
    agents: int
    max_chats: int
    warmup_s: float
    planned_s: float
    measured_s: float = 0.0
    sessions_ok: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    agent_error_kinds: dict[str, int] = field(default_factory=dict)
    sessions_per_s: float = 0.0
    setup_p50_ms: float = math.nan
    setup_p95_ms: float = math.nan
    setup_p99_ms: float = math.nan
    setup_max_ms: float = math.nan
    session_p50_ms: float = math.nan
    session_p99_ms: float = math.nan
    # medians of the steps of the setup, ms
    step_ms: dict[str, float] = field(default_factory=dict)
    cpu_s_per_session: dict[str, float] = field(default_factory=dict)
    cpu_pct: dict[str, float] = field(default_factory=dict)
    redis_calls_per_session: dict[str, float] = field(default_factory=dict)
    # commands/s while no chat runs (heartbeats, leases, sweeps), measured just before the
    # load; per session: that rate × the window / sessions, included in the total above
    redis_idle_per_s: float = math.nan
    redis_idle_per_session: float = math.nan
    # Counted in the HTTP service and the component themselves (bench/chatbench/probe), both
    # together, per session, by name, most first: the requests they sent Redis (round trips:
    # a pipeline or a transaction is one request, a Lua script's EVALSHA one) and the
    # commands those requests carried (a pipeline's contents one by one). Unlike
    # redis_calls_per_session (Redis's INFO commandstats), the commands a Lua script runs
    # inside Redis are not in them.
    redis_requests_per_session: dict[str, float] = field(default_factory=dict)
    redis_sent_per_session: dict[str, float] = field(default_factory=dict)
    # the totals of the two per process: {"http": {"requests": n, "commands": n}, "component": ...}
    redis_by_process: dict[str, dict[str, float]] = field(default_factory=dict)
    # requests/s while no chat runs, measured with redis_idle_per_s; per session: included above
    redis_idle_requests_per_s: float = math.nan
    redis_idle_requests_per_session: float = math.nan
    # --scrape: both /metrics fetched every scrape_s seconds during warm-up and window
    scrape_s: float = 0.0
    scrapes: dict[str, int] = field(default_factory=dict)  # per target, in the window
    scrape_errors: int = 0
    scrape_p50_ms: dict[str, float] = field(default_factory=dict)
    scrape_kib: dict[str, float] = field(default_factory=dict)  # size of the last answer
    # message, presence and IQ stanzas per session, counted in slixmpp where they are sent
    # and received: "clients" (citizens, agents: this process), "component" (all instances)
    stanzas_per_session: dict[str, float] = field(default_factory=dict)
    tokens_exhausted: bool = False
    ref_ms_before: float = math.nan  # reference_ms() just before and after the run
    ref_ms_after: float = math.nan


STEPS = ("start_communication", "client_url page", "guest login", "claim", "join room",
         "joined -> offer", "offer -> attributes", "attributes -> ended")


async def run_load(stack: Stack, tokens: list[str], concurrency: int, agent_names: list[str],
                   max_chats: int, warmup: float, duration: float, py_spy: Path | None,
                   log: Any, scrape: float = 0.0) -> RunResult:
    hub = Hub()
    result = RunResult(concurrency=concurrency, kind="idchat", server=stack.server_kind,
                       instances=len(stack.components), connected=0, agents=len(agent_names),
                       max_chats=max_chats, warmup_s=warmup, planned_s=duration, scrape_s=scrape)
    agents = await connect_agents(hub, agent_names, stack.c2s_port, max_chats)
    times: list[SessionTimes] = []
    errors: dict[str, int] = {}
    window = {"start": math.inf, "stopping": False, "last_end": 0.0}
    spy: subprocess.Popen[bytes] | None = None

    logouts: set[asyncio.Task[None]] = set()

    async def worker(http: Any) -> None:
        while not window["stopping"] and tokens:
            token = tokens.pop()
            measured = time.perf_counter() >= window["start"]
            citizen = Citizen(hub, http, stack.base, stack.c2s_port)
            try:
                t = await citizen.run(token)
            except StepError as exc:
                if measured:
                    errors[exc.step] = errors.get(exc.step, 0) + 1
                await citizen.abandon()
                await asyncio.sleep(0.05)
                continue
            # The logout is not waited for: a browser does not wait for it either, and
            # ejabberd closes the TCP connection only ~100 ms after the client's stream end
            # (Prosody at once), which would otherwise cap a closed loop at ~10 sessions/s
            # per citizen. Its CPU still counts (awaited before the window's CPU reading).
            closing = asyncio.ensure_future(citizen.close())
            logouts.add(closing)
            closing.add_done_callback(logouts.discard)
            if measured:
                times.append(t)
                window["last_end"] = max(window["last_end"], t.done)

    scraped: dict[str, list[float]] = {name: [] for name in stack.metrics_urls}

    async def scraper() -> None:
        """As Prometheus does: every `scrape` seconds both targets, at the same time, on a
        connection of its own (keep-alive), each answer read to the end."""
        import aiohttp
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=scrape)) as client:
            async def one(name: str, url: str) -> None:
                t = time.perf_counter()
                try:
                    async with client.get(url) as resp:
                        body = await resp.read()
                        if resp.status != 200 or b"idchat_" not in body:
                            raise RuntimeError(f"{url}: {resp.status}")
                except Exception:  # noqa: BLE001 - counted, the run goes on
                    result.scrape_errors += 1
                    return
                if t >= window["start"]:
                    scraped[name].append((time.perf_counter() - t) * 1000)
                result.scrape_kib[name] = len(body) / 1024
            next_at = time.perf_counter()
            while not window["stopping"]:
                await asyncio.gather(*(one(n, u) for n, u in stack.metrics_urls.items()))
                next_at += scrape
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    result.redis_idle_per_s, result.redis_idle_requests_per_s = await redis_idle_rate(stack)
    async with http_session(concurrency + 2) as http:
        workers = [asyncio.ensure_future(worker(http)) for _ in range(concurrency)]
        scraping = asyncio.ensure_future(scraper()) if scrape > 0 else None
        try:
            await asyncio.sleep(warmup)
            pids = stack.pids()
            before = window_reading(stack, pids)
            window["start"] = time.perf_counter()
            if py_spy is not None:
                spy = launcher.popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                     str(stack.components[0].pid), "--duration", str(max(1, int(duration))),
                     "--rate", "200", "--nonblocking", "--format", "raw", "--output", str(py_spy)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result.tokens_exhausted = await run_window(stack, window, workers, logouts, duration,
                                                       lambda: not tokens)
            end = window["last_end"] if times else time.perf_counter()
            after = window_reading(stack, pids)
            result.connected = stack.component_connections()
        finally:
            window["stopping"] = True
            for w in workers:
                w.cancel()
            if scraping is not None:
                scraping.cancel()
                await asyncio.gather(scraping, return_exceptions=True)
            await asyncio.gather(*workers, *list(logouts), return_exceptions=True)
            if spy is not None:
                try:
                    spy.wait(duration + 30)
                except subprocess.TimeoutExpired:
                    pass
                launcher.stop_process(spy)
            await close_agents(agents)

    elapsed = end - window["start"]
    for name, took in scraped.items():
        result.scrapes[name] = len(took)
        result.scrape_p50_ms[name] = median(took) if took else math.nan
    setup = sorted((t.attrs - t.t0) * 1000 for t in times)
    whole = sorted((t.done - t.t0) * 1000 for t in times)
    result.measured_s = elapsed
    result.sessions_ok = len(times)
    result.errors = sum(errors.values())
    result.error_kinds = errors
    result.agent_error_kinds = dict(hub.agent_errors)
    result.sessions_per_s = len(times) / elapsed if elapsed > 0 else 0.0
    result.setup_p50_ms, result.setup_p95_ms, result.setup_p99_ms = (
        percentile(setup, p) for p in (50, 95, 99))
    result.setup_max_ms = setup[-1] if setup else math.nan
    result.session_p50_ms, result.session_p99_ms = percentile(whole, 50), percentile(whole, 99)
    pairs = (("t0", "start"), ("start", "page"), ("page", "connect"), ("connect", "claim"),
             ("claim", "joined"), ("joined", "offer"), ("offer", "attrs"), ("attrs", "done"))
    for name, (a, b) in zip(STEPS, pairs):
        result.step_ms[name] = median([(getattr(t, b) - getattr(t, a)) * 1000 for t in times])
    if times:
        # A citizen's offer may come before its own join completes: then the step is negative.
        result.step_ms["claim -> offer"] = median([(t.offer - t.claim) * 1000 for t in times])
    fill_window(result, before, after, elapsed, len(times))
    if elapsed > 0:
        if len(stack.components) > 1:  # all instances together
            used = sum(after["cpu"][n] - before["cpu"][n] for n in stack.component_names)
            result.cpu_pct["components"] = 100 * used / elapsed
            result.cpu_s_per_session["components"] = used / len(times) if times else math.nan
    if times:
        result.redis_idle_per_session = round(result.redis_idle_per_s * elapsed / len(times), 2)
        result.redis_idle_requests_per_session = round(
            result.redis_idle_requests_per_s * elapsed / len(times), 2)
    return result


async def run_window(stack: Stack, window: dict[str, Any], workers: Sequence[asyncio.Future[None]],
                     logouts: set[asyncio.Task[None]], duration: float,
                     out_of_work: Callable[[], bool] = lambda: False) -> bool:
    """The measured window of a closed loop, from ``window["start"]``: ``duration`` seconds
    (less when every worker ended, or when ``out_of_work()``, which is then returned), the
    stack checked meanwhile; then the workers finish the sessions in flight and the logouts
    end (their CPU counts)."""
    deadline = window["start"] + duration
    ran_out = False
    while time.perf_counter() < deadline:
        if out_of_work():
            ran_out = True
            break
        if all(w.done() for w in workers):
            break
        stack.check_alive()
        await asyncio.sleep(min(0.1, max(0.0, deadline - time.perf_counter())))
    window["stopping"] = True
    await asyncio.wait_for(asyncio.gather(*workers), STEP_TIMEOUT * 6)
    await asyncio.gather(*list(logouts), return_exceptions=True)
    return ran_out


def window_reading(stack: Stack, pids: dict[str, int], services: bool = True) -> dict[str, Any]:
    """What a measured window begins and ends with: the CPU of ``pids`` (and of the load
    generator and the machine), Redis's INFO commandstats, the stanzas of the clients here,
    and (``services``: the HTTP service and the component run) what the probe counted in
    them (stanzas, Redis requests)."""
    reading: dict[str, Any] = {"cpu": cpu_snapshot(pids),
                               "commandstats": redis_commandstats(stack.redis.port)}
    probe = stack.probe_counts() if services else {}
    reading["stanzas"] = {"clients": local_stanzas()}
    if services:
        reading["stanzas"]["component"] = probe.get("component", {}).get("stanzas", {})
    reading["probe"] = probe
    return reading


def fill_window(result: RunResult, before: dict[str, Any], after: dict[str, Any],
                elapsed: float, sessions: int) -> None:
    """CPU, Redis and stanzas of a window (two :func:`window_reading`) into ``result``:
    per session, and CPU also as % of one CPU. Both the HTTP service and the component;
    sessions in flight at the window's edges make this approximate (closed loop: the same
    number start and end)."""
    if elapsed > 0:
        for name, seconds in cpu_used(before["cpu"], after["cpu"]).items():
            result.cpu_pct[name] = 100 * seconds / elapsed
            if name != "other":
                result.cpu_s_per_session[name] = seconds / sessions if sessions else math.nan
    if not sessions:
        return
    result.redis_calls_per_session = commands_per_session(before["commandstats"],
                                                          after["commandstats"], sessions)
    result.stanzas_per_session = stanzas_per_session(before["stanzas"], after["stanzas"], sessions)
    sides = [s for s in after["probe"] if s in before["probe"]]
    for kind, field_name in (("requests", "redis_requests_per_session"),
                             ("commands", "redis_sent_per_session")):
        total: dict[str, float] = {}
        for side in sides:
            delta = counts_delta(before["probe"][side]["redis"][kind],
                                 after["probe"][side]["redis"][kind])
            result.redis_by_process.setdefault(side, {})[kind] = round(
                sum(delta.values()) / sessions, 2)
            for name, n in delta.items():
                total[name] = total.get(name, 0.0) + n
        setattr(result, field_name, {k: round(v / sessions, 2) for k, v in
                                     sorted(total.items(), key=lambda kv: -kv[1]) if v > 0})


def counts_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items()}


async def redis_idle_rate(stack: Stack, seconds: float = 2.0) -> tuple[float, float]:
    """While nothing but the processes' own timers runs: Redis commands per second (INFO
    commandstats), and requests per second that the two processes sent (the probe; nan
    when it could not be read)."""
    def requests(probe: dict[str, dict[str, Any]]) -> int:
        return sum(sum(side["redis"]["requests"].values()) for side in probe.values())
    port = stack.redis.port
    before, probe0 = sum(redis_commandstats(port).values()), stack.probe_counts()
    await asyncio.sleep(seconds)
    after, probe1 = sum(redis_commandstats(port).values()), stack.probe_counts()
    rate = (requests(probe1) - requests(probe0)) / seconds \
        if len(probe0) == len(probe1) == 2 else math.nan
    return max(0.0, (after - before - 1) / seconds), rate  # less our own INFO


def stanzas_per_session(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]],
                        sessions: int) -> dict[str, float]:
    """{"clients in": ..., "clients out": ..., "component in": ..., "component out": ...} per
    session; a side whose counts could not be read is left out."""
    out = {}
    for side, counts in after.items():
        for way, n in counts.items():
            if way in before.get(side, {}):
                out[f"{side} {way}"] = round((n - before[side][way]) / sessions, 2)
    return out


# --------------------------------------------------------------------------- memory run

async def warm_up(stack: Stack, tokens: list[str], agent_names: list[str], max_chats: int,
                  sessions: int = 8, concurrency: int = 2) -> None:
    """Whole sessions, unmeasured; fails when none completes."""
    hub = Hub()
    agents = await connect_agents(hub, agent_names, stack.c2s_port, max_chats)
    ok, errors = 0, []
    try:
        async with http_session(concurrency + 2) as http:
            for _ in range(0, sessions, concurrency):
                citizens = [Citizen(hub, http, stack.base, stack.c2s_port)
                            for _ in range(concurrency)]
                outcomes = await asyncio.gather(*(c.run(tokens.pop()) for c in citizens),
                                                return_exceptions=True)
                for c, outcome in zip(citizens, outcomes):
                    if isinstance(outcome, BaseException):
                        errors.append(str(outcome))
                        await c.abandon()
                    else:
                        ok += 1
                        await c.close()
    finally:
        await close_agents(agents)
    if ok == 0:
        raise RuntimeError(f"warm-up: no session completed: {errors[:3]} {hub.agent_errors}")


@dataclass
class MemoryResult:
    chats_requested: int
    agents: int
    max_chats: int
    chats_open: int = 0
    open_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    component_idle_kib: int = 0
    component_loaded_kib: int = 0
    component_after_end_kib: int = 0
    component_delta_per_1000_mib: float = math.nan
    xmpp_delta_per_1000_mib: float = math.nan  # Prosody or ejabberd
    redis_delta_per_1000_mib: float = math.nan
    ended: int = 0
    end_s: float = 0.0
    # per slice of the opening: [chats open before, after, chats/s, XMPP server ms CPU per
    # chat, component ms CPU per chat (all instances)]
    open_slices: list[list[float]] = field(default_factory=list)


async def scrape_cost(stack: Stack, times: int = 30, gap: float = 1.05) -> dict[str, float]:
    """ms of CPU one scrape costs the process scraped: `times` scrapes of each /metrics,
    `gap` seconds apart (the component reads Redis at most once a second for its gauges, so
    closer scrapes would be cheaper than real ones), after the load runs (every metric
    family has its series). Robust on a shared machine, where the sessions/s of one run
    move more with the neighbours than with the scrapes."""
    import aiohttp
    pids = {"http": stack.http.pid, "component": stack.components[0].pid}
    async with aiohttp.ClientSession() as client:
        async def one(url: str) -> None:
            async with client.get(url) as resp:
                await resp.read()
        await asyncio.gather(*(one(u) for u in stack.metrics_urls.values()))  # connections open
        await asyncio.sleep(gap)
        before = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
        for _ in range(times):
            await asyncio.gather(*(one(u) for u in stack.metrics_urls.values()))
            await asyncio.sleep(gap)
        # idle cost over the same time is in it too (timers, the sweeper): measured apart
        middle = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.sleep(times * gap)
        after = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    return {name: 1000 * max(0.0, (middle[name] - before[name]) - (after[name] - middle[name])) / times
            for name in pids}


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def run_memory(stack: Stack, tokens: list[str], chats: int, agent_names: list[str],
                     max_chats: int, log: Any, open_concurrency: int = 25,
                     time_limit: float = 300.0) -> MemoryResult:
    res = MemoryResult(chats_requested=chats, agents=len(agent_names), max_chats=max_chats)
    pids = stack.pids()

    def component_rss() -> int:  # all instances together
        return sum(rss_kib(pids[n]) for n in stack.component_names)

    def component_cpu() -> float:
        return sum(proc_cpu_seconds(pids[n]) for n in stack.component_names)
    # Warm-up: a few whole sessions, so the component has imported and cached what it uses.
    await warm_up(stack, tokens, agent_names[:2], max_chats)
    hub = Hub(hold=True)
    agents = await connect_agents(hub, agent_names, stack.c2s_port, max_chats)
    await settle(2.0)
    res.component_idle_kib = component_rss()
    xmpp0, redis0 = rss_kib(pids["xmpp"]), rss_kib(pids["redis"])
    citizens: list[Citizen] = []
    errors: dict[str, int] = {}
    sem = asyncio.Semaphore(open_concurrency)
    deadline = time.perf_counter() + time_limit

    async def open_one(http: Any) -> None:
        async with sem:
            if time.perf_counter() > deadline or not tokens:
                errors["time limit or tokens"] = errors.get("time limit or tokens", 0) + 1
                return
            c = Citizen(hub, http, stack.base, stack.c2s_port)
            try:
                await c.open(tokens.pop())
                await c.wait_ready()
                citizens.append(c)
            except StepError as exc:
                errors[exc.step] = errors.get(exc.step, 0) + 1
                await c.abandon()

    t = time.perf_counter()
    step = max(1, chats // 4)
    mark = (0, t, proc_cpu_seconds(pids["xmpp"]), component_cpu())
    try:
        async with http_session(open_concurrency + 2) as http:
            tasks = [asyncio.ensure_future(open_one(http)) for _ in range(chats)]
            done = 0
            for fut in asyncio.as_completed(tasks):
                await fut
                done += 1
                if len(citizens) - mark[0] >= step or done == chats:
                    now = (len(citizens), time.perf_counter(), proc_cpu_seconds(pids["xmpp"]),
                           component_cpu())
                    n = max(1, now[0] - mark[0])
                    res.open_slices.append([mark[0], now[0], round(n / (now[1] - mark[1]), 1),
                                            round(1000 * (now[2] - mark[2]) / n, 2),
                                            round(1000 * (now[3] - mark[3]) / n, 2)])
                    print(f"  memory: {done}/{chats} chats handled, {now[0]} open "
                          f"({now[1] - t:.0f} s; this slice {n / (now[1] - mark[1]):.1f} chats/s, "
                          f"{stack.server_label} {1000 * (now[2] - mark[2]) / n:.1f} ms CPU per "
                          "chat)", file=log)
                    mark = now
                    stack.check_alive()
        res.open_s = time.perf_counter() - t
        res.chats_open = len(citizens)
        res.errors = {**errors, **{f"agent: {k}": v for k, v in hub.agent_errors.items()}}
        await settle(3.0)
        res.component_loaded_kib = component_rss()
        n = max(1, res.chats_open)
        res.component_delta_per_1000_mib = (res.component_loaded_kib - res.component_idle_kib) \
            / 1024 * 1000 / n
        res.xmpp_delta_per_1000_mib = (rss_kib(pids["xmpp"]) - xmpp0) / 1024 * 1000 / n
        res.redis_delta_per_1000_mib = (rss_kib(pids["redis"]) - redis0) / 1024 * 1000 / n
        # End them all (the agent ends, as in the load runs), then log everyone out.
        t = time.perf_counter()
        end_sem = asyncio.Semaphore(open_concurrency)

        async def end_one(c: Citizen) -> None:
            async with end_sem:
                rec = hub.chats.get(c.cid)
                try:
                    if rec is not None and rec.agent is not None:
                        await rec.agent.end_chat(c.cid)
                        assert c.ended is not None
                        await asyncio.wait_for(asyncio.shield(c.ended), STEP_TIMEOUT)
                        res.ended += 1
                except Exception:  # noqa: BLE001
                    await c.abandon()
                await c.close()
        await asyncio.gather(*(end_one(c) for c in citizens))
        res.end_s = time.perf_counter() - t
        await settle(3.0)
        res.component_after_end_kib = component_rss()
    finally:
        await asyncio.gather(*(c.close() for c in citizens), return_exceptions=True)
        await close_agents(agents)
    return res


