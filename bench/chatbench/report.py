"""The report: Markdown tables of the runs, the raw-XMPP comparison, and the line that says
what was measured (versions, commit, machine)."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys

from . import ROOT
from .baseline import RAW_STEPS
from .runs import STEPS, MemoryResult, RunResult

AIMS = {"setup_p50_ms_at_1": 20.0, "setup_p99_ms_at_20": 250.0, "sessions_per_s_at_20": 60.0}
# Issue 15's targets, against the raw-XMPP baseline of the same run.
TARGETS = {"rate_vs_raw_at_20": 0.65, "setup_p99_ms_at_20": 250.0, "setup_p50_ms_at_1": 15.0,
           "servers_cpu_ms": 15.0, "redis_commands": 40.0}
SERVER_PARTS = ("xmpp", "component", "http", "redis")


def fmt(v: float, digits: int = 1) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def markdown(results: list[RunResult], memory: MemoryResult | None, server_label: str,
             component_names: list[str]) -> str:
    out: list[str] = []
    multi = len(component_names) > 1
    if results:
        out += ["### Sessions (closed loop)", "",
                "| citizens | agents × max-chats | measured s | sessions | errors | sessions/s "
                "| setup p50 ms | setup p95 ms | setup p99 ms | setup max ms | session p50 ms "
                "| session p99 ms |",
                "|" + "---:|" * 12]
        for r in results:
            out.append(f"| {r.concurrency} | {r.agents} × {r.max_chats} | {r.measured_s:.1f} "
                       f"| {r.sessions_ok} | {r.errors} | {r.sessions_per_s:.1f} "
                       f"| {fmt(r.setup_p50_ms)} | {fmt(r.setup_p95_ms)} | {fmt(r.setup_p99_ms)} "
                       f"| {fmt(r.setup_max_ms)} | {fmt(r.session_p50_ms)} "
                       f"| {fmt(r.session_p99_ms)} |")
        out += ["", "### Where the setup time goes (medians, ms)", "",
                "| citizens | " + " | ".join(STEPS) + " | claim -> offer |",
                "|" + "---:|" * (len(STEPS) + 2)]
        for r in results:
            out.append(f"| {r.concurrency} | " + " | ".join(
                fmt(r.step_ms.get(s, math.nan)) for s in (*STEPS, "claim -> offer")) + " |")
        comp = "components" if multi else "component"
        names = ("xmpp", "redis", "http", comp, "load generator")
        out += ["", "### CPU per complete session (ms of CPU; in brackets: % of one CPU)", "",
                f"| citizens | {server_label} | Redis | HTTP service "
                f"| component{f' ({len(component_names)} instances)' if multi else ''} "
                "| servers total | load generator | other | reference loop ms before / after |",
                "|" + "---:|" * 9]
        for r in results:
            servers = sum(r.cpu_s_per_session.get(n, math.nan) for n in names[:4])
            cells = [f"{fmt(1000 * r.cpu_s_per_session.get(n, math.nan), 2)} "
                     f"({fmt(r.cpu_pct.get(n, math.nan), 0)} %)" for n in names]
            out.append(f"| {r.concurrency} | " + " | ".join(cells[:4]) +
                       f" | {fmt(1000 * servers, 2)} | {cells[4]} "
                       f"| {fmt(r.cpu_pct.get('other', math.nan), 0)} % "
                       f"| {fmt(r.ref_ms_before)} / {fmt(r.ref_ms_after)} |")
        if multi:
            out += ["", "Component instances, each (ms of CPU per session; % of one CPU):", "",
                    "| citizens | connected | " + " | ".join(component_names) + " |",
                    "|" + "---:|" * (len(component_names) + 2)]
            for r in results:
                out.append(f"| {r.concurrency} | {r.connected} of {r.instances} | " + " | ".join(
                    f"{fmt(1000 * r.cpu_s_per_session.get(n, math.nan), 2)} "
                    f"({fmt(r.cpu_pct.get(n, math.nan), 0)} %)" for n in component_names) + " |")
        if any(r.scrape_s for r in results) or len({r.scrape_s for r in results}) > 1:
            out += ["", "### The cost of metrics: both /metrics scraped during the run", "",
                    "| citizens | scraped every s | sessions/s | setup p50 ms | setup p99 ms "
                    "| HTTP service ms CPU/session | component ms CPU/session | scrapes (HTTP / "
                    "component) | scrape p50 ms (HTTP / component) | answer KiB (HTTP / component) |",
                    "|" + "---:|" * 10]
            comp = "components" if multi else "component"
            for r in results:
                both = ("http", "component")
                out.append(
                    f"| {r.concurrency} | {fmt(r.scrape_s, 0) if r.scrape_s else 'never'} "
                    f"| {r.sessions_per_s:.1f} | {fmt(r.setup_p50_ms)} | {fmt(r.setup_p99_ms)} "
                    f"| {fmt(1000 * r.cpu_s_per_session.get('http', math.nan), 2)} "
                    f"| {fmt(1000 * r.cpu_s_per_session.get(comp, math.nan), 2)} "
                    + ("| " + " / ".join(str(r.scrapes.get(n, 0)) for n in both)
                       + " | " + " / ".join(fmt(r.scrape_p50_ms.get(n, math.nan)) for n in both)
                       + " | " + " / ".join(fmt(r.scrape_kib.get(n, math.nan)) for n in both)
                       + (f" ({r.scrape_errors} failed)" if r.scrape_errors else "") + " |"
                       if r.scrape_s else "| – | – | – |"))
        out += ["", "Redis per session (HTTP service and component together): the requests the "
                "two processes sent (round trips: a pipeline or a transaction is one, a Lua "
                "script's EVALSHA one), the commands those carried (a pipeline's contents each), "
                "both counted in the processes, and the commands Redis executed (INFO "
                "commandstats: every redis.call inside a Lua script counts too):", ""]
        for r in results:
            out.append(f"- {r.concurrency} citizens:")
            out += [f"  - {line}" for line in redis_lines(r)]
        out += ["", "Stanzas per session (message, presence, IQ; counted in slixmpp where sent and "
                "received; in / out):", ""]
        for r in results:
            clients, component = stanza_cells(r)
            out.append(f"- {r.concurrency} citizens: citizens and agents {clients}, "
                       f"component {component}")
        notes = []
        for r in results:
            if r.error_kinds or r.agent_error_kinds:
                notes.append(f"- {r.concurrency} citizens: errors by step: {r.error_kinds}; "
                             f"agent side: {r.agent_error_kinds}")
            if r.tokens_exhausted:
                notes.append(f"- {r.concurrency} citizens: the pre-minted tokens ran out after "
                             f"{r.measured_s:.1f} s; raise --sessions")
            if r.concurrency == 1:
                ok = r.setup_p50_ms <= AIMS["setup_p50_ms_at_1"]
                notes.append(f"- aim at 1 citizen: setup p50 ≤ {AIMS['setup_p50_ms_at_1']:g} ms: "
                             f"**{'MET' if ok else 'NOT MET'}** ({fmt(r.setup_p50_ms)} ms)")
            if r.concurrency == 20:
                ok_p = r.setup_p99_ms <= AIMS["setup_p99_ms_at_20"]
                ok_r = r.sessions_per_s >= AIMS["sessions_per_s_at_20"]
                notes.append(f"- aims at 20 citizens: setup p99 ≤ {AIMS['setup_p99_ms_at_20']:g} ms "
                             f"**{'MET' if ok_p else 'NOT MET'}** ({fmt(r.setup_p99_ms)} ms); ≥ "
                             f"{AIMS['sessions_per_s_at_20']:g} sessions/s "
                             f"**{'MET' if ok_r else 'NOT MET'}** ({r.sessions_per_s:.1f}/s)")
        out += [""] + notes if notes else []
    if memory is not None:
        m = memory
        out += ["", "### Component memory with chats held open", "",
                "| chats open / asked | agents × max-chats | open in s | component RSS idle MiB "
                "| with chats MiB | after ending MiB | component MiB per 1,000 chats "
                f"| {server_label} MiB per 1,000 | Redis MiB per 1,000 |",
                "|" + "---:|" * 9,
                f"| {m.chats_open} / {m.chats_requested} | {m.agents} × {m.max_chats} "
                f"| {m.open_s:.1f} | {m.component_idle_kib / 1024:.1f} "
                f"| {m.component_loaded_kib / 1024:.1f} | {m.component_after_end_kib / 1024:.1f} "
                f"| {fmt(m.component_delta_per_1000_mib)} | {fmt(m.xmpp_delta_per_1000_mib)} "
                f"| {fmt(m.redis_delta_per_1000_mib)} |"]
        if multi:
            out.append(f"\n- component RSS: all {len(component_names)} instances together")
        if m.errors:
            out.append(f"\n- errors while opening: {m.errors}")
        out.append(f"- ended {m.ended} of {m.chats_open} in {m.end_s:.1f} s")
        out.append("- opening, by slice (chats open before → after: chats/s, ms CPU per chat of "
                   f"{server_label} / component): " + "; ".join(
                       f"{a:.0f}→{b:.0f}: {r:g}/s, {pc:g} / {cc:g}" for a, b, r, pc, cc in m.open_slices))
    return "\n".join(out)


def package_version(name: str) -> str:
    """The installed Debian package's version, or '' (not a Debian system, no such package)."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def code_line() -> str:
    """The commit measured, and whether the code under test had uncommitted changes."""
    def git(*cmd: str) -> str:
        try:
            out = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True,
                                 timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""
    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "code: not a git checkout"
    dirty = git("status", "--porcelain", "--", "component", "xmpp_plugin", "prosody", "ejabberd")
    return f"code: commit {head}" + (" with uncommitted changes to the code under test"
                                      if dirty else "")


def machine_line(server: str, instances: int) -> str:
    import slixmpp
    label = "Prosody" if server == "prosody" else "ejabberd"
    version = package_version(server)
    if instances == 1:
        comp = "the component"
    elif server == "ejabberd":
        comp = f"{instances} component instances (all connected; ejabberd spreads the stanzas)"
    else:
        comp = (f"{instances} component instances (Prosody takes one connection per component "
                f"domain: one active, the Redis lease holder, {instances - 1} standing by)")
    return (f"Python {sys.version.split()[0]}, slixmpp {slixmpp.__version__}, "
            f"{label}{' ' + version if version else ''}, {os.cpu_count()} CPUs; load generator, "
            f"{label}, Redis, HTTP service and {comp} on the same machine, loopback only")




def _top(counts: dict[str, float], n: int) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in list(counts.items())[:n])


def redis_lines(r: RunResult) -> list[str]:
    """Requests, commands sent and commands executed per session, each with its top list."""
    by = r.redis_by_process
    if r.redis_requests_per_session:
        sides = " (" + ", ".join(f"{label} {by[side]['requests']:.1f}" for side, label in
                                 (("http", "HTTP service"), ("component", "component"))
                                 if side in by) + ")"
        requests = (f"requests (round trips): {redis_requests(r):.1f}{sides}, of which "
                    f"{fmt(r.redis_idle_requests_per_session)} the idle rate's share "
                    f"({fmt(r.redis_idle_requests_per_s)}/s while no chat runs) "
                    f"({_top(r.redis_requests_per_session, 8)})")
        sent = (f"commands sent: {sum(r.redis_sent_per_session.values()):.1f} "
                f"({_top(r.redis_sent_per_session, 8)})")
    else:
        requests = sent = "requests and commands sent: – (the probe could not be read)"
    executed = (f"commands executed by Redis: {sum(r.redis_calls_per_session.values()):.1f}, of "
                f"which {fmt(r.redis_idle_per_session)} the idle rate's share "
                f"({fmt(r.redis_idle_per_s)}/s while no chat runs) "
                f"({_top(r.redis_calls_per_session, 12)})")
    return [requests, sent, executed] if r.redis_requests_per_session else [requests, executed]


def redis_requests(r: RunResult) -> float:
    """Requests (round trips) per session, or nan when the probe could not be read."""
    return sum(r.redis_requests_per_session.values()) if r.redis_requests_per_session \
        else math.nan


def servers_cpu_ms(r: RunResult) -> float:
    """ms of CPU per session of the XMPP server, the component(s), HTTP and Redis together."""
    comp = "components" if "components" in r.cpu_s_per_session else "component"
    return 1000 * sum(r.cpu_s_per_session.get(n, 0.0)
                      for n in ("xmpp", comp, "http", "redis"))


# What each of issue 15's targets says, in the order the report checks them.
TARGET_LABELS = {
    "servers_cpu": "servers' CPU per chat ≤ 15 ms",
    "redis_executed": "Redis commands per chat ≤ 40 counted as the commands Redis executes",
    "redis_requests": "counted as the requests our processes send",
    "rate": "≥ 0.65 × raw",
    "setup_p99": "setup p99 ≤ 250 ms",
    "setup_p50": "setup p50 ≤ 15 ms",
}


def loadgen_cpu_ms(r: RunResult) -> float:
    """ms of CPU per session of the load generator (this process: the clients' side)."""
    return 1000 * r.cpu_s_per_session.get("load generator", math.nan)


def target_checks(r: RunResult, raw: RunResult) -> dict[str, bool]:
    """Issue 15's targets for one ID Chat run beside the raw run of the same concurrency:
    each key of TARGET_LABELS that applies at that concurrency, met or not."""
    ratio = r.sessions_per_s / raw.sessions_per_s if raw.sessions_per_s else math.nan
    checks = {"servers_cpu": servers_cpu_ms(r) <= TARGETS["servers_cpu_ms"],
              "redis_executed": sum(r.redis_calls_per_session.values()) <= TARGETS["redis_commands"],
              "redis_requests": redis_requests(r) <= TARGETS["redis_commands"]}
    if r.concurrency == 20:
        checks["rate"] = ratio >= TARGETS["rate_vs_raw_at_20"]
        checks["setup_p99"] = r.setup_p99_ms <= TARGETS["setup_p99_ms_at_20"]
    if r.concurrency == 1:
        checks["setup_p50"] = r.setup_p50_ms <= TARGETS["setup_p50_ms_at_1"]
    return checks


def _spread(values: list[float], digits: int = 1) -> str:
    """'median (lowest–highest)' of the runs' values (nan left out), or '–'."""
    vals = sorted(v for v in values if not math.isnan(v))
    if not vals:
        return "–"
    mid = fmt(statistics.median(vals), digits)
    return mid if len(vals) == 1 else f"{mid} ({fmt(vals[0], digits)}–{fmt(vals[-1], digits)})"


def repeat_summary(runs: list[tuple[list[RunResult], list[RunResult]]], server_label: str) -> str:
    """``--repeat``: each figure over the runs (each on a freshly started stack) as its median
    and range, and how many runs met each of issue 15's targets. ``runs``: per run, (the raw
    baseline's results, ID Chat's results)."""
    n = len(runs)
    out = [f"### Over {n} runs, each on a freshly started stack: median (lowest–highest)", "",
           "| citizens | | runs | chats/s | × raw | setup p50 ms | setup p99 ms "
           f"| servers' CPU ms per chat ({server_label} + component + HTTP + Redis) "
           "| load generator's CPU ms per chat | servers ÷ load generator "
           "| Redis requests per chat | Redis commands executed per chat | stanzas per chat |",
           "|---:|---|" + "---:|" * 11]
    notes: list[str] = []
    concurrencies = sorted({r.concurrency for raw, idchat in runs for r in (*raw, *idchat)})
    for c in concurrencies:
        pairs: list[tuple[RunResult | None, RunResult | None]] = []  # (raw, ID Chat) per run
        for raw, idchat in runs:
            pairs.append((next((b for b in raw if b.concurrency == c), None),
                          next((r for r in idchat if r.concurrency == c), None)))
        for label, side in (("raw XMPP", 0), ("ID Chat", 1)):
            rs: list[RunResult] = [x for x in (p[side] for p in pairs) if x is not None]
            if not rs:
                continue
            ratios = [r.sessions_per_s / b.sessions_per_s for b, r in pairs
                      if side == 1 and b is not None and r is not None and b.sessions_per_s]
            lg = [loadgen_cpu_ms(r) for r in rs]
            servers = [servers_cpu_ms(r) for r in rs]
            stanzas = [sum(r.stanzas_per_session.values()) if r.stanzas_per_session else math.nan
                       for r in rs]
            idchat_only = side == 1
            out.append(
                f"| {c} | {label} | {len(rs)} | {_spread([r.sessions_per_s for r in rs])} "
                f"| {_spread(ratios, 2)} | {_spread([r.setup_p50_ms for r in rs])} "
                f"| {_spread([r.setup_p99_ms for r in rs], 0)} | {_spread(servers, 2)} "
                f"| {_spread(lg, 2)} | {_spread([s / g for s, g in zip(servers, lg)], 2)} "
                f"| {_spread([redis_requests(r) for r in rs]) if idchat_only else '–'} "
                f"| {_spread([sum(r.redis_calls_per_session.values()) for r in rs]) if idchat_only else '–'} "
                f"| {_spread(stanzas)} |")
        checked = [target_checks(r, b) for b, r in pairs if b is not None and r is not None]
        if checked:
            notes.append(f"- {c} at once, issue 15 targets: " + "; ".join(
                f"{TARGET_LABELS[key]}: met in {sum(ch[key] for ch in checked)} of {len(checked)}"
                for key in checked[0]))
    if notes:
        out += ["", "Each target checked run by run, against the raw run of the same "
                "concurrency in the same invocation:", ""] + notes
    return "\n".join(out)


def stanza_cells(r: RunResult) -> tuple[str, str]:
    """(clients: in / out, component: in / out) per session."""
    s = r.stanzas_per_session

    def pair(side: str) -> str:
        if f"{side} in" not in s:
            return "–"
        return f"{s[f'{side} in']:.1f} / {s[f'{side} out']:.1f}"
    return pair("clients"), pair("component")


def comparison(raw: list[RunResult], idchat: list[RunResult], server_label: str) -> str:
    """Raw XMPP beside ID Chat, per concurrency, with issue 15's targets."""
    out = ["### Raw XMPP beside ID Chat (same server, same run)", "",
           "| citizens | | chats/s | setup p50 ms | setup p99 ms "
           f"| CPU ms per chat: {server_label} | component | HTTP | Redis | servers total "
           "| Redis commands executed per chat (idle share) | Redis requests / commands sent "
           "per chat | stanzas per chat, clients in / out | component in / out |",
           "|---:|---|" + "---:|" * 12]
    by_c = {r.concurrency: r for r in idchat}
    notes = []
    for b in raw:
        rows = [("raw XMPP", b)] + ([("ID Chat", by_c[b.concurrency])]
                                    if b.concurrency in by_c else [])
        for label, r in rows:
            comp = "components" if "components" in r.cpu_s_per_session else "component"
            cpu = [fmt(1000 * r.cpu_s_per_session[n], 2) if n in r.cpu_s_per_session else "–"
                   for n in ("xmpp", comp, "http")]
            redis = (fmt(1000 * r.cpu_s_per_session["redis"], 2)
                     if r.kind == "idchat" else "–")
            clients, component = stanza_cells(r)
            redis_sent = (f"{redis_requests(r):.1f} / {sum(r.redis_sent_per_session.values()):.1f}"
                          if r.redis_requests_per_session else "–")
            out.append(f"| {r.concurrency} | {label} | {r.sessions_per_s:.1f} "
                       f"| {fmt(r.setup_p50_ms)} | {fmt(r.setup_p99_ms)} | {' | '.join(cpu)} "
                       f"| {redis} | {fmt(servers_cpu_ms(r), 2)} "
                       f"| {sum(r.redis_calls_per_session.values()):.1f}"
                       f"{f' ({fmt(r.redis_idle_per_session)})' if r.kind == 'idchat' else ''} "
                       f"| {redis_sent} "
                       f"| {clients} "
                       f"| {component} |")
        if b.concurrency in by_c:
            r = by_c[b.concurrency]
            ratio = r.sessions_per_s / b.sessions_per_s if b.sessions_per_s else math.nan
            notes.append(f"- {b.concurrency} at once: ID Chat at {fmt(ratio, 2)} × the raw rate; "
                         f"servers' CPU per chat {fmt(servers_cpu_ms(r), 1)} ms against "
                         f"{fmt(servers_cpu_ms(b), 1)} ms raw "
                         f"({fmt(servers_cpu_ms(r) / servers_cpu_ms(b), 1)} ×), and "
                         f"{fmt(servers_cpu_ms(r) / loadgen_cpu_ms(r), 2)} × the load "
                         "generator's own")
            executed, requests = sum(r.redis_calls_per_session.values()), redis_requests(r)
            detail = {"redis_executed": f" ({executed:.1f}, a Lua script's commands each)",
                      "redis_requests": f" ({fmt(requests)}, round trips)"}
            notes.append("  issue 15 targets: " + "; ".join(
                f"{TARGET_LABELS[key]}{detail.get(key, '')} **{'MET' if ok else 'NOT MET'}**"
                for key, ok in target_checks(r, b).items()))
    out += [""] + notes if notes else []
    out += ["", "Raw XMPP: where the setup time goes (medians, ms): "
            + "; ".join(f"{b.concurrency} at once: " + ", ".join(
                f"{s} {fmt(b.step_ms.get(s, math.nan))}" for s in RAW_STEPS) for b in raw)]
    errs = [f"{b.concurrency} at once: {b.error_kinds}" for b in raw if b.error_kinds]
    if errs:
        out.append("Raw XMPP errors: " + "; ".join(errs))
    out += ["", "Stanzas: message, presence and IQ stanzas per chat, counted in slixmpp at the "
            "endpoints (clients: the citizens/guests and agents of the load generator, the raw "
            "run's room owner included; component: every instance, through the benchmark's "
            "probe), not at the server: a stanza the server routes from one endpoint to another "
            "counts once as out and once as in."]
    return "\n".join(out)
