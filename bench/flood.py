#!/usr/bin/env python3
"""Flood benchmark: anonymous guests send junk claims while real citizens claim their chats.

What issue 8 found: four anonymous guests sending 60,000 claim IQs with junk tickets in
2.5 s took the component down. This benchmark repeats that against the real stack and
reports what a real citizen notices and what the component did:

1. the stack starts as in ``chat_sessions.py`` (a private Redis, Prosody or ejabberd from
   the project configuration, the HTTP service and one component process);
2. ``--claims`` citizens are prepared beforehand: a session each (``start_communication``
   with a freshly minted token), the page with its one-time ticket, a guest login;
3. ``--guests`` anonymous guests log in and each writes ``--stanzas`` claim IQs with junk
   tickets into its stream, in 20 slices over ``--send-seconds`` (raw XML, as an attacker's
   script would; their replies are counted from the raw bytes, not parsed);
4. meanwhile the prepared citizens claim, one every ``--claim-every`` seconds from the
   start of the flood: the latency of each claim (until its result) is the number that
   matters (p50/p99/max); a claim not answered within 30 s counts as lost;
5. the flood is over when the server has passed on everything the guests sent (each
   guest's last stanza is a ping to its own server, answered in order) and no reply
   came for 2 s more (at most ``--flood-max`` s, 60);
   the prepared citizens end their chats, then one whole chat (an agent comes online,
   a new citizen claims, joins, the agent accepts, they exchange messages, the agent ends
   it) shows whether the stack still works.

Reported: claim latency without and during the flood, what the flooders got back (the
component's ``<resource-constraint/>`` answers, ``<not-authorized/>`` for junk tickets that
were looked up, other errors, and what was never answered: dropped), component
disconnects (its TCP connection to the XMPP server, sampled every 20 ms, and the
component's own log), the CPU of the component, the XMPP server and Redis over the flood,
and the component's own counters when its log reports them.

    .venv/bin/python bench/flood.py
    .venv/bin/python bench/flood.py --server ejabberd --runs 3 --json flood.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chatbench puts the rest on the path

from benchlib import mint_tokens, percentile
from chatbench.actors import (
    Citizen,
    Hub,
    close_agents,
    connect_agents,
    end_as_citizen,
    http_session,
    start_and_page,
)
from chatbench.cli import new_parser, quieten, run_script, setup_process
from chatbench.clients import StepError, close_client, guest_login
from chatbench.common import COMPONENT_DOMAIN, GUEST_DOMAIN, cpu_snapshot, cpu_used
from chatbench.report import code_line, machine_line
from chatbench.stack import Stack

NS = "https://idchat.nl/protocol/chat/1"  # component/protocol/stanza.py NS
CLAIM_TIMEOUT = 30.0
SLICES = 20
QUIET_AFTER_FLOOD = 2.0  # s without a reply to the flooders after the server passed it all on
ANSWERS = ("resource-constraint", "not-authorized", "service-unavailable", "internal-server-error")
# What the flooders count in the raw bytes they receive.
END_MARK = "flood-end-mark"
NEEDLES = {"resource-constraint": b"<resource-constraint",
           "not-authorized": b"<not-authorized", "service-unavailable": b"<service-unavailable",
           "internal-server-error": b"<internal-server-error", "stream errors": b"<stream:error",
           "end": END_MARK.encode()}
# The component's periodic summary (component/admission.py), when it logs one.
SUMMARY_RE = re.compile(r"budget: .*?admitted (\d+), refused (\d+), dropped (\d+)")


class Flooder:
    """A guest whose stream is taken over once logged in: raw claims out, bytes counted in."""

    def __init__(self, xmpp: Any, index: int) -> None:
        self.xmpp, self.index = xmpp, index
        self.counts = {k: 0 for k in NEEDLES}
        self.last_reply = 0.0
        self.closed = False
        self._tail = b""
        self._keep = max(len(n) for n in NEEDLES.values()) - 1

    def take_over(self) -> None:
        # The parser is bypassed (asyncio calls the protocol's data_received per read):
        # 60,000 replies parsed by slixmpp would cost the load generator seconds of CPU.
        self.xmpp.data_received = self._count
        self.xmpp.connection_lost = self._lost

    def _count(self, data: bytes) -> None:
        buf = self._tail + data
        for key, needle in NEEDLES.items():
            n = buf.count(needle) - self._tail.count(needle)
            if n:
                self.counts[key] += n
                if key in ANSWERS:
                    self.last_reply = time.perf_counter()
        self._tail = buf[-self._keep:]

    def _lost(self, _exc: object) -> None:
        self.closed = True

    def write(self, first: int, count: int) -> None:
        g = self.index
        self.xmpp.transport.write("".join(
            f"<iq type='set' id='f{g}x{n}' to='{COMPONENT_DOMAIN}'>"
            f"<claim xmlns='{NS}' ticket='junk-{g}-{n}'/></iq>"
            for n in range(first, first + count)).encode())

    def end_mark(self) -> None:
        """A ping to our own server after the flood: the server answers it only after it
        has passed on everything this guest sent before (a c2s stream is handled in order)."""
        self.xmpp.transport.write(f"<iq type='get' id='{END_MARK}' to='{GUEST_DOMAIN}'>"
                                  "<ping xmlns='urn:xmpp:ping'/></iq>".encode())


class ConnectionWatch:
    """Samples the component's TCP connections to the XMPP server every 20 ms (a thread:
    the load generator's event loop is busy during the flood)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.drops = 0
        self.lowest = math.inf
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        expected = self.stack.expected_connections
        was_up = True
        while not self._stop.is_set():
            n = self.stack.component_connections()
            self.lowest = min(self.lowest, n)
            up = n >= expected
            if was_up and not up:
                self.drops += 1
            was_up = up
            self._stop.wait(0.02)

    def __enter__(self) -> "ConnectionWatch":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(2)


@dataclass
class FloodResult:
    server: str
    guests: int
    stanzas_per_guest: int
    send_s: float
    sent: int = 0
    written_s: float = math.nan       # until the last slice was handed to the kernel
    delivered_s: float = math.nan     # until the server had passed on all of it (ping answered)
    passed_on: bool = False           # ... within --flood-max
    flood_s: float = math.nan         # until the flooders got no reply for 2 s
    baseline_claim_ms: list[float] = field(default_factory=list)
    claim_ms: list[float] = field(default_factory=list)
    claims_lost: int = 0
    claim_errors: dict[str, int] = field(default_factory=dict)
    claim_p50_ms: float = math.nan
    claim_p99_ms: float = math.nan
    claim_max_ms: float = math.nan
    replies: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0
    flooders_disconnected: int = 0
    component_disconnects: int = 0
    component_log_disconnects: int = 0
    component_counters: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    cpu_pct: dict[str, float] = field(default_factory=dict)
    after_chat_ok: bool = False
    after_chat_ms: float = math.nan
    after_chat_error: str = ""


async def prepare_citizen(http: Any, stack: Stack, token: str) -> tuple[Any, str]:
    """A session, its page (the ticket), a logged-in guest: everything before the claim."""
    _, _, ticket = await start_and_page(http, stack.base, token)
    return await guest_login(stack.c2s_port), ticket


async def timed_claim(xmpp: Any, ticket: str) -> tuple[float, str]:
    """(ms until the answer, '' or the error); nan when no answer came in time."""
    iq = xmpp.make_iq(ito=COMPONENT_DOMAIN, itype="set")
    iq["idchat_claim"]["ticket"] = ticket
    t = time.perf_counter()
    try:
        await iq.send(timeout=CLAIM_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - IqError, IqTimeout
        if hasattr(exc, "iq") and exc.iq["type"] == "error":
            return (time.perf_counter() - t) * 1000, exc.iq["error"]["condition"]
        return math.nan, type(exc).__name__
    return (time.perf_counter() - t) * 1000, ""


def log_disconnects(text: str) -> int:
    return text.count("XMPP connection lost") + text.count("standing by")


def log_counters(text: str) -> dict[str, int]:
    out = {"admitted": 0, "refused": 0, "dropped": 0}
    for m in SUMMARY_RE.finditer(text):
        for key, value in zip(("admitted", "refused", "dropped"), m.groups()):
            out[key] += int(value)
    return out if SUMMARY_RE.search(text) else {}


async def run_flood(stack: Stack, tokens: list[str], args: argparse.Namespace,
                    log: Any) -> FloodResult:
    result = FloodResult(server=stack.server_kind, guests=args.guests,
                         stanzas_per_guest=args.stanzas, send_s=args.send_seconds)
    component_log = stack.components[0].log_path
    log_start = component_log.stat().st_size if component_log.exists() else 0
    async with http_session(8) as http:
        prepared = [await prepare_citizen(http, stack, tokens.pop())
                    for _ in range(args.claims + args.baseline_claims)]
        for xmpp, ticket in prepared[args.claims:]:  # claims without a flood, for comparison
            ms, err = await timed_claim(xmpp, ticket)
            result.baseline_claim_ms.append(ms)
            if err:
                raise RuntimeError(f"a claim without the flood failed: {err}")
        flooders = []
        for i in range(args.guests):
            flooders.append(Flooder(await guest_login(stack.c2s_port), i))
        for f in flooders:
            f.take_over()

        pids = stack.pids()
        cpu0 = cpu_snapshot(pids)
        with ConnectionWatch(stack) as watch:
            t0 = time.perf_counter()

            async def flood() -> None:
                per = math.ceil(args.stanzas / SLICES)
                for s in range(SLICES):
                    first = s * per
                    count = min(per, args.stanzas - first)
                    for f in flooders:
                        if count > 0:
                            f.write(first, count)
                    result.sent += max(0, count) * len(flooders)
                    await asyncio.sleep(max(0.0, t0 + (s + 1) * args.send_seconds / SLICES
                                            - time.perf_counter()))
                result.written_s = time.perf_counter() - t0

            async def claims() -> list[tuple[float, str]]:
                async def one(k: int) -> tuple[float, str]:
                    await asyncio.sleep(max(0.0, t0 + k * args.claim_every - time.perf_counter()))
                    return await timed_claim(*prepared[k])
                return await asyncio.gather(*(one(k) for k in range(args.claims)))

            flooding = asyncio.ensure_future(flood())
            claiming = asyncio.ensure_future(claims())
            await flooding
            for f in flooders:
                f.end_mark()
            while any(not f.counts["end"] for f in flooders) \
                    and time.perf_counter() - t0 < args.flood_max:
                await asyncio.sleep(0.02)
            result.delivered_s = time.perf_counter() - t0
            result.passed_on = all(f.counts["end"] for f in flooders)
            while result.passed_on and time.perf_counter() - t0 < args.flood_max:
                last = max([f.last_reply for f in flooders] + [t0 + result.delivered_s])
                if time.perf_counter() - last >= QUIET_AFTER_FLOOD:
                    break
                await asyncio.sleep(0.1)
            outcomes = await claiming
            result.flood_s = max([f.last_reply for f in flooders] + [t0]) - t0
        cpu1 = cpu_snapshot(pids)
        elapsed = time.perf_counter() - t0
        result.component_disconnects = watch.drops

        for ms, err in outcomes:
            if math.isnan(ms):
                result.claims_lost += 1
                result.claim_errors[err] = result.claim_errors.get(err, 0) + 1
            else:
                result.claim_ms.append(ms)
                if err:
                    result.claim_errors[err] = result.claim_errors.get(err, 0) + 1
        ordered = sorted(result.claim_ms)
        result.claim_p50_ms, result.claim_p99_ms = percentile(ordered, 50), percentile(ordered, 99)
        result.claim_max_ms = ordered[-1] if ordered else math.nan
        for key in NEEDLES:
            result.replies[key] = sum(f.counts[key] for f in flooders)
        answered = sum(result.replies[k] for k in ANSWERS)
        result.unanswered = result.sent - answered
        result.flooders_disconnected = sum(f.closed for f in flooders)
        for name, used in cpu_used(cpu0, cpu1).items():
            if name != "other":
                result.cpu_s[name] = used
            result.cpu_pct[name] = 100 * used / elapsed

        for f in flooders:
            f.xmpp.abort()
        for xmpp, _ in prepared:
            await end_as_citizen(xmpp, 10)  # best effort: the chat may be gone already
        await asyncio.gather(*(close_client(x) for x, _ in prepared), return_exceptions=True)

        # Does the stack still work? One whole chat, start to end.
        hub = Hub()
        agents = await connect_agents(hub, ["agent000"], stack.c2s_port, 5)
        citizen = Citizen(hub, http, stack.base, stack.c2s_port)
        try:
            times = await citizen.run(tokens.pop())
            result.after_chat_ok = True
            result.after_chat_ms = (times.done - times.t0) * 1000
        except StepError as exc:
            result.after_chat_error = str(exc)
            await citizen.abandon()
        finally:
            await citizen.close()
            await close_agents(agents)

    # The component flushes its summary on a timer: give it a moment.
    await asyncio.sleep(args.summary_wait)
    text = component_log.read_text(errors="replace")[log_start:] if component_log.exists() else ""
    result.component_log_disconnects = log_disconnects(text)
    result.component_counters = log_counters(text)
    return result


def set_server_guest_rate(stack: Stack, rate: int) -> None:
    """IDCHAT_LIMITS_GUEST_RATE for the XMPP server only (before it starts)."""
    stack.xmpp.env["IDCHAT_LIMITS_GUEST_RATE"] = str(rate)
    if stack.server_kind == "ejabberd":  # it reads its settings when constructed
        from ejabberd_server import xmpp_settings
        stack.xmpp.settings = xmpp_settings(stack.xmpp.env, stack.xmpp.profile)


def fmt(x: float, digits: int = 0) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def markdown(results: list[FloodResult]) -> str:
    out = ["| run | sent | claim without flood p50 ms | claims during flood "
           "| claim p50 / p99 / max ms | lost | resource-constraint | not-authorized "
           "| other errors | unanswered (dropped) | component disconnects "
           "| component CPU s (% of one CPU) | XMPP server CPU s | after: whole chat |",
           "|---:|" + "---:|" * 11 + "---|"]
    for i, r in enumerate(results, 1):
        other = (r.replies.get("service-unavailable", 0) + r.replies.get("internal-server-error", 0))
        out.append(
            f"| {i} | {r.sent:,} | {fmt(percentile(sorted(r.baseline_claim_ms), 50), 1)} "
            f"| {len(r.claim_ms) + r.claims_lost} "
            f"| {fmt(r.claim_p50_ms)} / {fmt(r.claim_p99_ms)} / {fmt(r.claim_max_ms)} "
            f"| {r.claims_lost} | {r.replies.get('resource-constraint', 0):,} "
            f"| {r.replies.get('not-authorized', 0):,} | {other:,} | {r.unanswered:,}"
            f"{'' if r.passed_on else ' (flood still passing)'} "
            f"| {r.component_disconnects} (log: {r.component_log_disconnects}) "
            f"| {fmt(r.cpu_s.get('component', math.nan), 1)} "
            f"({fmt(r.cpu_pct.get('component', math.nan))} %) "
            f"| {fmt(r.cpu_s.get('xmpp', math.nan), 1)} "
            f"| {'ok' if r.after_chat_ok else 'FAILED ' + r.after_chat_error} "
            f"{fmt(r.after_chat_ms)} ms |")
    notes = []
    for i, r in enumerate(results, 1):
        if r.claim_errors:
            notes.append(f"- run {i}: claim errors during the flood: {r.claim_errors}")
        if r.component_counters:
            c = r.component_counters
            notes.append(f"- run {i}: the component's own counters (log): admitted "
                         f"{c['admitted']:,}, refused {c['refused']:,}, dropped {c['dropped']:,}")
        notes.append(f"- run {i}: flood written in {fmt(r.written_s, 1)} s, passed on by the "
                     f"server after {fmt(r.delivered_s, 1)} s, last reply to them after "
                     f"{fmt(r.flood_s, 1)} s; flooders disconnected by the server: "
                     f"{r.flooders_disconnected}; CPU % of one CPU: " + ", ".join(
                         f"{k} {v:.0f}" for k, v in r.cpu_pct.items()))
    return "\n".join(out + [""] + notes)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = new_parser(__doc__, json_stdout=False)
    p.add_argument("--guests", type=int, default=4, help="flooding guests (default 4)")
    p.add_argument("--stanzas", type=int, default=15000,
                   help="junk claims per guest (default 15000)")
    p.add_argument("--send-seconds", type=float, default=2.0,
                   help="the flood is written in this many seconds (default 2)")
    p.add_argument("--claims", type=int, default=12,
                   help="real claims during the flood (default 12)")
    p.add_argument("--claim-every", type=float, default=0.5,
                   help="seconds between the real claims, from the start of the flood (0.5)")
    p.add_argument("--baseline-claims", type=int, default=5,
                   help="real claims before the flood, for comparison (default 5)")
    p.add_argument("--runs", type=int, default=1, help="floods, one after another (default 1)")
    p.add_argument("--flood-max", type=float, default=60.0,
                   help="seconds to wait at most for the server to pass the flood on (60); a "
                        "server that throttles guests may need longer: what it still holds is "
                        "counted as unanswered, marked 'flood still passing'")
    p.add_argument("--summary-wait", type=float, default=11.0,
                   help="seconds to wait for the component's log summary after a run (11)")
    p.add_argument("--server-guest-rate", type=int, default=None, metavar="BYTES",
                   help="the XMPP server's byte rate for guest connections "
                        "(IDCHAT_LIMITS_GUEST_RATE; default: the project's, 16000). A high "
                        "value lets the whole flood through to the component")
    args = p.parse_args(argv)
    if not 1 <= args.guests <= 50 or not 1 <= args.stanzas <= 200_000:
        p.error("--guests must be 1..50 and --stanzas 1..200000")
    if not 1 <= args.claims <= 200 or not 1 <= args.runs <= 20:
        p.error("--claims must be 1..200 and --runs 1..20")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = setup_process()
    per_run = args.claims + args.baseline_claims + 1
    tokens = mint_tokens(per_run * args.runs + 5, lifetime=3600, processes=os.cpu_count() or 1)
    code = code_line()
    tmp = tempfile.mkdtemp(prefix="idchat-floodbench-")
    stack = Stack(Path(tmp), ["agent000"], args.server, 1)
    if args.server_guest_rate is not None:
        set_server_guest_rate(stack, args.server_guest_rate)
    results: list[FloodResult] = []
    with stack.running(args.keep_workdir, log):
        stack.start(log)

        async def runs() -> None:
            for i in range(args.runs):
                await quieten(args.quiet_wait, log)
                print(f"flood {i + 1}: {args.guests} guests × {args.stanzas} junk claims in "
                      f"{args.send_seconds:g} s, {args.claims} real claims ...", file=log)
                results.append(await run_flood(stack, tokens, args, log))
                stack.check_alive()

        asyncio.run(runs())
    machine = machine_line(args.server, 1) + "; " + code + "; the server's guest rate: " + (
        f"{args.server_guest_rate} bytes/s" if args.server_guest_rate else "the project's")
    print(machine)
    print()
    print(markdown(results))
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": machine,
                                         "results": [asdict(r) for r in results]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    run_script(main)
