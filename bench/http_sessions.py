#!/usr/bin/env python3
"""HTTP session benchmark: one `python -m xmpp_plugin` process, sessions back to back.

One *session* is what the ID Contact core and an auth plugin do for one citizen:

1. ``POST /start_communication`` with ``{"purpose": "report_move"}`` -> ``attr_url``
2. ``POST <attr_url>`` with ``Content-Type: application/jwt`` and a freshly minted token

The script starts everything itself: a private Redis on a free port (scripts/redis_server.py)
and the HTTP service as a subprocess on a free port, configured through ``IDCHAT_*``
variables with the published test keys (demo/test-keys/). It pre-mints one token per
session before anything is timed (the service refuses a token replayed into another
session), warms up, runs a load of N workers sharing one keep-alive connection pool for
a bounded time, prints a Markdown table and stops what it started. Every request goes to
127.0.0.1.

Two kinds of load:

* closed loop (default): each worker starts its next session as soon as the last one
  ended, so the service is saturated and the latency is the queueing at that throughput
  (Little's law: mean latency = clients / throughput).
* paced (``--rate R``): sessions are scheduled at R per second in total and at most N
  (``--concurrency``) are in flight. A session that could not start on time because all
  workers were busy is timed from its scheduled start (no coordinated omission).

    .venv/bin/python bench/http_sessions.py --concurrency 20 --duration 20
    .venv/bin/python bench/http_sessions.py --concurrency 1 20 --json result.json

``--loop uvloop`` runs the *service* on uvloop (uvloop is not a dependency; it must be
importable, e.g. ``PYTHONPATH=/path/with/uvloop``). ``--py-spy FILE`` samples the service
with py-spy during the measured part of the last run (collapsed stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import launcher  # noqa: E402
from benchlib import (  # noqa: E402
    TEST_PRIVKEY,
    TEST_PUBKEY,
    machine_busy_seconds,
    mint_tokens,
    percentile,
    proc_cpu_seconds,
    wait_for_quiet,
)
from redis_server import RedisServer, free_port, wait_for_port  # noqa: E402

START_BODY = json.dumps({"purpose": "report_move"}).encode()
MINT_CHUNK = 250
DRAIN_SECONDS = 30  # paced load: how long sessions scheduled in the window may still start
# Generous upper bound of the rate, for the default number of pre-minted tokens.
DEFAULT_RATE_CAP = 1000


# --------------------------------------------------------------------------- tokens


# --------------------------------------------------------------------------- processes


def proc_status_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def uses_uvloop(pid: int) -> bool:
    try:
        return "uvloop" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


class Service:
    """``python -m xmpp_plugin`` on a free loopback port, against the given Redis."""

    def __init__(self, workdir: Path, redis_url: str, loop: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.loop = loop
        self.log_path = workdir / "service.log"
        self.redis_url = redis_url
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDCHAT_")}
        env.update({
            "IDCHAT_HTTP_HOST": "127.0.0.1",
            "IDCHAT_HTTP_PORT": str(self.port),
            "IDCHAT_HTTP_EXTERNAL_URL": self.base,
            "IDCHAT_HTTP_INTERNAL_URL": self.base,
            "IDCHAT_REDIS_URL": self.redis_url,
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
            "IDCHAT_DEMO_ENABLED": "true",  # the published test keys: benchmarks only
            "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
            "IDCHAT_LOG_LEVEL": "WARNING",
        })
        return env

    def command(self) -> list[str]:
        if self.loop == "asyncio":
            return [sys.executable, "-m", "xmpp_plugin"]
        # aiohttp's run_app makes its loop with asyncio.new_event_loop(): set the policy first.
        code = ("import asyncio, runpy, sys, warnings, uvloop\n"
                "warnings.simplefilter('ignore', DeprecationWarning)\n"
                "asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())\n"
                "sys.argv[0] = 'xmpp_plugin'\n"
                "runpy.run_module('xmpp_plugin', run_name='__main__', alter_sys=True)\n")
        return [sys.executable, "-c", code]

    def start(self, timeout: float = 30) -> "Service":
        if self.loop == "uvloop":
            check = subprocess.run([sys.executable, "-c", "import uvloop"], env=self.env(),
                                   capture_output=True)
            if check.returncode != 0:
                raise RuntimeError("--loop uvloop: uvloop is not importable (it is not a project "
                                   "dependency; install it somewhere and put it on PYTHONPATH)")
        with open(self.log_path, "wb") as log:
            self.proc = launcher.popen(self.command(), cwd=ROOT, env=self.env(),
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            wait_for_port(self.port, timeout, self.proc)
            self._wait_healthy(timeout)
        except Exception:
            sys.stderr.write(self.log_tail())
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the service did not answer /healthz in time")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(["--- service log (tail) ---", *text[-lines:], ""])

    def stop(self) -> None:
        # aiohttp's run_app shuts down gracefully on SIGTERM; SIGKILL after 10 s
        launcher.stop_process(self.proc, timeout=10)
        self.proc = None


# --------------------------------------------------------------------------- load

@dataclass
class RunResult:
    concurrency: int
    loop: str
    offered_rate: float | None
    warmup_s: float
    planned_s: float
    measured_s: float = 0.0
    sessions_ok: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    sessions_per_s: float = 0.0
    p50_ms: float = math.nan
    p95_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    mean_ms: float = math.nan
    start_p50_ms: float = math.nan
    start_p99_ms: float = math.nan
    attr_p50_ms: float = math.nan
    attr_p99_ms: float = math.nan
    service_cpu_pct: float = math.nan
    service_cpu_ms_per_session: float = math.nan
    redis_cpu_pct: float = math.nan
    client_cpu_pct: float = math.nan
    other_cpu_pct: float = math.nan
    service_rss_mib: float = math.nan
    service_hwm_mib: float = math.nan
    service_uses_uvloop: bool = False
    late_starts: int = 0
    tokens_exhausted: bool = False
    tokens_left: int = 0


class Load:
    def __init__(self, base: str, tokens: list[str], rate: float | None) -> None:
        self.base = base
        self.tokens = tokens
        self.rate = rate
        self.schedule_origin = 0.0
        self.next_slot = 0
        self.late_starts = 0
        self.window_start = math.inf
        self.deadline = math.inf  # paced: no session scheduled at or after this starts
        self.stopping = False
        self.session_ms: list[float] = []
        self.start_ms: list[float] = []
        self.attr_ms: list[float] = []
        self.last_end = 0.0
        self.errors: dict[str, int] = {}

    def _error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def worker(self, http: Any) -> None:
        import aiohttp
        start_url = f"{self.base}/start_communication"
        while not self.stopping and self.tokens:
            token = self.tokens.pop()
            t0 = time.perf_counter()
            late = False
            if self.rate is not None:
                scheduled = self.schedule_origin + self.next_slot / self.rate
                if scheduled >= self.deadline:
                    break
                self.next_slot += 1
                if scheduled > t0:  # a free worker: wait for the slot, time from the send
                    await asyncio.sleep(scheduled - t0)
                    if self.stopping:
                        break
                    t0 = time.perf_counter()
                else:  # every worker was busy: the wait counts into the latency
                    late = t0 - scheduled > 0.001
                    t0 = scheduled
            measured = t0 >= self.window_start
            if measured and late:
                self.late_starts += 1
            try:
                async with http.post(start_url, data=START_BODY,
                                     headers={"Content-Type": "application/json"}) as resp:
                    body = await resp.read()
                    status = resp.status
                t1 = time.perf_counter()
                if status != 200:
                    if measured:
                        self._error(f"start_communication {status}")
                    continue
                attr_url = json.loads(body)["attr_url"]
                if not attr_url.startswith(self.base + "/"):  # requests only to our loopback service
                    raise RuntimeError(f"unexpected attr_url host: {attr_url!r}")
                async with http.post(attr_url, data=token,
                                     headers={"Content-Type": "application/jwt"}) as resp:
                    await resp.read()
                    status = resp.status
                t2 = time.perf_counter()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
                if measured:
                    self._error(type(exc).__name__)
                continue
            if not measured:
                continue
            if status != 200:
                self._error(f"attr_url {status}")
                continue
            self.session_ms.append((t2 - t0) * 1000)
            self.start_ms.append((t1 - t0) * 1000)
            self.attr_ms.append((t2 - t1) * 1000)
            self.last_end = max(self.last_end, t2)


async def run_load(service: Service, redis: RedisServer, tokens: list[str], concurrency: int,
                   rate: float | None, warmup: float, duration: float,
                   py_spy: Path | None) -> RunResult:
    import aiohttp
    load = Load(service.base, tokens, rate)
    result = RunResult(concurrency=concurrency, loop=service.loop, offered_rate=rate,
                       warmup_s=warmup, planned_s=duration)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10)
    spy: subprocess.Popen[bytes] | None = None
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        load.schedule_origin = time.perf_counter()
        workers = [asyncio.create_task(load.worker(http)) for _ in range(concurrency)]
        try:
            await asyncio.sleep(warmup)
            assert redis.proc is not None
            cpu0 = (proc_cpu_seconds(service.pid), proc_cpu_seconds(redis.proc.pid),
                    time.process_time(), machine_busy_seconds())
            load.window_start = time.perf_counter()
            if py_spy is not None:
                spy = launcher.popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                     str(service.pid), "--duration", str(max(1, int(duration))), "--rate", "250",
                     "--nonblocking", "--format", "raw", "--output", str(py_spy)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = load.window_start + duration
            load.deadline = deadline
            while time.perf_counter() < deadline:
                if not load.tokens:
                    result.tokens_exhausted = True
                    break
                if all(w.done() for w in workers):
                    break
                await asyncio.sleep(min(0.05, max(0.0, deadline - time.perf_counter())))
            if rate is not None:
                # Paced: sessions scheduled inside the window but still waiting for a free
                # worker are part of the measurement; let them run (bounded).
                drain_until = time.perf_counter() + DRAIN_SECONDS
                while not all(w.done() for w in workers) and time.perf_counter() < drain_until:
                    await asyncio.sleep(0.05)
            load.stopping = True
            await asyncio.gather(*workers)  # sessions in flight finish and count
            if rate is not None:
                scheduled_in_run = math.ceil((deadline - load.schedule_origin) * rate)
                unstarted = scheduled_in_run - load.next_slot
                if unstarted > 0 and not result.tokens_exhausted:
                    load.errors["not started within the drain time (backlog)"] = unstarted
            end = load.last_end if load.session_ms else time.perf_counter()
            cpu1 = (proc_cpu_seconds(service.pid), proc_cpu_seconds(redis.proc.pid),
                    time.process_time(), machine_busy_seconds())
        finally:
            load.stopping = True
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if spy is not None:
                try:
                    spy.wait(duration + 30)
                except subprocess.TimeoutExpired:
                    pass
                launcher.stop_process(spy)

    elapsed = end - load.window_start
    lat = sorted(load.session_ms)
    start = sorted(load.start_ms)
    attr = sorted(load.attr_ms)
    result.measured_s = elapsed
    result.sessions_ok = len(lat)
    result.errors = sum(load.errors.values())
    result.error_kinds = dict(load.errors)
    result.sessions_per_s = len(lat) / elapsed if elapsed > 0 else 0.0
    result.p50_ms, result.p95_ms, result.p99_ms = (percentile(lat, p) for p in (50, 95, 99))
    result.max_ms = lat[-1] if lat else math.nan
    result.mean_ms = sum(lat) / len(lat) if lat else math.nan
    result.start_p50_ms, result.start_p99_ms = percentile(start, 50), percentile(start, 99)
    result.attr_p50_ms, result.attr_p99_ms = percentile(attr, 50), percentile(attr, 99)
    if elapsed > 0:
        result.service_cpu_pct = 100 * (cpu1[0] - cpu0[0]) / elapsed
        result.redis_cpu_pct = 100 * (cpu1[1] - cpu0[1]) / elapsed
        result.client_cpu_pct = 100 * (cpu1[2] - cpu0[2]) / elapsed
        # Everything else busy on the machine meanwhile (other processes, the kernel).
        ours = sum(cpu1[i] - cpu0[i] for i in range(3))
        result.other_cpu_pct = max(0.0, 100 * ((cpu1[3] - cpu0[3]) - ours) / elapsed)
    if lat:
        result.service_cpu_ms_per_session = 1000 * (cpu1[0] - cpu0[0]) / len(lat)
    result.service_rss_mib = proc_status_kib(service.pid, "VmRSS") / 1024
    result.service_hwm_mib = proc_status_kib(service.pid, "VmHWM") / 1024
    result.service_uses_uvloop = uses_uvloop(service.pid)
    result.tokens_left = len(load.tokens)
    result.late_starts = load.late_starts
    return result


# --------------------------------------------------------------------------- report

def mode(r: RunResult) -> str:
    return "closed loop" if r.offered_rate is None else f"paced {r.offered_rate:g}/s"


def markdown(results: list[RunResult], target_concurrency: int, target_rate: float,
             target_p99: float) -> str:
    head = ("| clients | load | loop | measured s | sessions | errors | sessions/s | p50 ms | p95 ms "
            "| p99 ms | max ms | start p50/p99 ms | attr p50/p99 ms | service CPU | "
            "CPU ms/session | Redis CPU | client CPU | other CPU | service RSS MiB |")
    lines = [head, "|" + "|".join(["---:"] * (head.count("|") - 1)) + "|"]
    for r in results:
        lines.append(
            f"| {r.concurrency} | {mode(r)} | {r.loop} | {r.measured_s:.1f} | {r.sessions_ok} | {r.errors} "
            f"| {r.sessions_per_s:.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.max_ms:.1f} | {r.start_p50_ms:.2f} / {r.start_p99_ms:.2f} "
            f"| {r.attr_p50_ms:.2f} / {r.attr_p99_ms:.2f} | {r.service_cpu_pct:.0f} % "
            f"| {r.service_cpu_ms_per_session:.2f} | {r.redis_cpu_pct:.0f} % "
            f"| {r.client_cpu_pct:.0f} % | {r.other_cpu_pct:.0f} % | {r.service_rss_mib:.1f} (peak {r.service_hwm_mib:.1f}) |")
    notes = []
    for r in results:
        if r.error_kinds:
            kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r.error_kinds.items()))
            notes.append(f"- {r.concurrency} clients, {mode(r)}: errors by kind: {kinds}")
        if r.tokens_exhausted:
            notes.append(f"- {r.concurrency} clients, {mode(r)}: the pre-minted tokens ran out after "
                         f"{r.measured_s:.1f} s of the planned {r.planned_s:.0f} s; "
                         f"raise --sessions")
        if r.loop == "uvloop" and not r.service_uses_uvloop:
            notes.append(f"- {r.concurrency} clients: uvloop was asked for but is not loaded "
                         "in the service")
        if r.other_cpu_pct > 15:
            notes.append(f"- {r.concurrency} clients, {mode(r)}: the machine was not quiet: "
                         f"other processes used {r.other_cpu_pct:.0f} % of a CPU (of "
                         f"{100 * (os.cpu_count() or 1)} %) during the run; rerun when it is")
        if r.offered_rate is not None and r.late_starts:
            notes.append(f"- {r.concurrency} clients, {mode(r)}: {r.late_starts} sessions "
                         "started late (all workers busy); timed from their scheduled start")
        if r.concurrency == target_concurrency:
            # Allow 1 % for the edges of the window when paced exactly at the target rate.
            ok_rate = r.sessions_per_s >= target_rate * (0.99 if r.offered_rate else 1.0)
            ok_p99 = r.p99_ms < target_p99
            ok_err = r.errors == 0
            verdict = "MET" if ok_rate and ok_p99 and ok_err and not r.tokens_exhausted else "NOT MET"
            notes.append(
                f"- target at {target_concurrency} clients, {mode(r)} "
                f"(>= {target_rate:g} sessions/s, "
                f"p99 < {target_p99:g} ms, no errors): **{verdict}** "
                f"({r.sessions_per_s:.0f}/s {'ok' if ok_rate else 'short'}, "
                f"p99 {r.p99_ms:.2f} ms {'ok' if ok_p99 else 'over'}, "
                f"{r.errors} errors)")
    return "\n".join(lines + ([""] + notes if notes else []))


def machine_line() -> str:
    import aiohttp
    return (f"Python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}, "
            f"{os.cpu_count()} CPUs; client, service and Redis on the same machine; "
            "latency = both requests of one session; CPU columns in % of one CPU")


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, nargs="+", default=[20],
                   help="clients (sessions in flight at most); several values run one after "
                        "another (default 20)")
    p.add_argument("--rate", type=float, default=None,
                   help="paced load: sessions per second in total (default: closed loop)")
    p.add_argument("--duration", type=float, default=20.0,
                   help="measured seconds per run (default 20; at most 300)")
    p.add_argument("--warmup", type=float, default=3.0,
                   help="unmeasured seconds before each run (default 3)")
    p.add_argument("--sessions", type=int, default=None,
                   help=f"tokens to pre-mint, one per session (default: (warmup + duration) x "
                        f"{DEFAULT_RATE_CAP} per run)")
    p.add_argument("--mint-processes", type=int, default=os.cpu_count() or 1,
                   help="processes minting tokens before the timed part (default: CPU count)")
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                   help="the service's event loop (uvloop must be importable)")
    p.add_argument("--quiet-wait", type=float, default=30.0, metavar="SECONDS",
                   help="before each run, wait at most this long for other processes to use "
                        "under 15 %% of a CPU (default 30; 0 = do not wait)")
    p.add_argument("--json", metavar="FILE", type=Path,
                   help="also write the results as JSON to FILE ('-' for stdout only)")
    p.add_argument("--py-spy", metavar="FILE", type=Path,
                   help="sample the service with py-spy (raw collapsed stacks) during the last run")
    p.add_argument("--target-concurrency", type=int, default=20)
    p.add_argument("--target-rate", type=float, default=300.0)
    p.add_argument("--target-p99-ms", type=float, default=25.0)
    args = p.parse_args(argv)
    if any(c < 1 or c > 500 for c in args.concurrency):
        p.error("--concurrency must be between 1 and 500")
    if args.rate is not None and not 0 < args.rate <= 5000:
        p.error("--rate must be in (0, 5000]")
    if not 0 < args.duration <= 300 or not 0 <= args.warmup <= 60:
        p.error("--duration must be in (0, 300] and --warmup in [0, 60]")
    if args.sessions is None:
        per_s = DEFAULT_RATE_CAP if args.rate is None else args.rate * 1.05 + 10
        args.sessions = math.ceil((args.warmup + args.duration) * per_s) * len(args.concurrency)
    if args.sessions < 1 or args.sessions > 2_000_000:
        p.error("--sessions must be between 1 and 2000000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGINT, SIGTERM, SIGHUP: the first stops the benchmark, later ones cannot cut its
    # cleanup short (scripts/launcher.py).
    launcher.install_stop_handlers()
    log = sys.stderr
    planned = len(args.concurrency) * (args.warmup + args.duration)
    t = time.perf_counter()
    # Tokens live past the whole run (minting included), with margin.
    tokens = mint_tokens(args.sessions, lifetime=int(600 + planned), processes=args.mint_processes,
                         chunk=MINT_CHUNK)
    print(f"minted {len(tokens)} tokens in {time.perf_counter() - t:.1f} s "
          f"({args.mint_processes} processes)", file=log)

    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="idchat-bench-") as tmp:
        redis = RedisServer(Path(tmp) / "redis")
        service = Service(Path(tmp), redis.url, args.loop)
        try:
            redis.start()
            service.start()
            print(f"service pid {service.pid} on {service.base} ({args.loop}); Redis on "
                  f"{redis.url}", file=log)
            for i, concurrency in enumerate(args.concurrency):
                if args.quiet_wait > 0:
                    wait_for_quiet(args.quiet_wait, 15.0, log)
                spy = args.py_spy if (args.py_spy and i == len(args.concurrency) - 1) else None
                load = "closed loop" if args.rate is None else f"paced {args.rate:g}/s"
                print(f"run: {concurrency} clients, {load}, {args.warmup:g} s warm-up + "
                      f"{args.duration:g} s measured ...", file=log)
                result = asyncio.run(run_load(service, redis, tokens, concurrency, args.rate,
                                              args.warmup, args.duration, spy))
                results.append(result)
                if service.proc is None or service.proc.poll() is not None:
                    raise RuntimeError("the service died during the run")
        except BaseException:
            sys.stderr.write(service.log_tail())
            raise
        finally:
            launcher.stop_all()  # the service, then Redis

    table = markdown(results, args.target_concurrency, args.target_rate, args.target_p99_ms)
    payload = {"machine": machine_line(), "results": [asdict(r) for r in results]}
    if args.json is not None and str(args.json) == "-":
        print(json.dumps(payload, indent=2))
        return 0
    print(machine_line())
    print()
    print(table)
    if args.json is not None:
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything this benchmark started was stopped", file=sys.stderr)
        sys.exit(130)
