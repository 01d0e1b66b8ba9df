"""Chat session benchmark: whole chats, end to end, on the real stack.

One *session* is one citizen's chat as the ID Contact core, the browser and an agent
make it (docs/protocol.md):

1. ``POST /start_communication`` with ``{"purpose", "auth_result"}`` (a freshly minted token)
2. ``GET client_url``: the page; the claim ticket is read from its
   ``<script type="application/json" id="idchat-config">`` element, the cookie is kept
3. an anonymous guest logs in on Prosody, claims the chat with the ticket (§1) and joins
   the room
4. an agent (one of ``--agents`` accounts, available with ``--max-chats``) gets the offer,
   accepts it at once (§4), receives the attributes (§5) and joins the room
5. four room messages, two each way, each waited for by the other side
6. the agent ends the chat (§6); the session is complete when the citizen has the
   ``ended`` status.

**Setup** is the time from sending ``start_communication`` until the agent holds the
attributes message. **Session** is the time until the citizen has the ``ended`` status.

Every server is a process of its own, started here and stopped again at the end (also on
errors and Ctrl-C): a private Redis, the XMPP server with the project configuration on free
loopback ports (``--server prosody``, the default: prosody/prosody.cfg.lua; ``--server
ejabberd``: ejabberd/ejabberd.yml through scripts/ejabberd_server.py), the HTTP service
(``python -m xmpp_plugin``) and the component (``python -m component``; ``--instances N``
starts N of them with the same settings), configured through ``IDCHAT_*`` variables
(``IDCHAT_XMPP_SERVER`` follows ``--server``) and the published test keys (demo/test-keys/).
On ejabberd every instance connects and the server spreads the stanzas among them; on
Prosody only the holder of a Redis lease connects and the others stand by, so there N > 1
measures one active instance plus the standbys' idle cost. This process is the load generator: citizens and agents are
slixmpp clients in it. Tokens are minted before anything is timed (the service refuses a
token replayed into another session, so each carries a random ``jti``).

Runs, in this order:

* raw-XMPP baseline (``--baseline``), for each ``--concurrency`` value: the same XMPP work
  done raw by slixmpp clients on the same XMPP server, before the HTTP service and the
  component start (bench/chatbench/baseline.py); the report sets it beside the ID Chat
  runs of the same concurrency (chats/s, setup, CPU per chat of every process, Redis
  commands and stanzas per chat).
* memory (``--chats-for-memory N``, default 1000; 0 skips): after a short warm-up the
  component's RSS is read idle, then N chats are opened and kept open (citizens claimed and
  joined, agents accepted, holding the attributes, in the room), the RSS is read again,
  and all chats are ended. Agents: ``ceil(N / max-chats)`` accounts.
* load, for each ``--concurrency`` value: a closed loop (each citizen starts the next
  session when the last one is complete) for ``--warmup`` + ``--duration`` seconds;
  sessions *started* in the measured window count, sessions in flight at its end finish.
  CPU seconds per session of every server process come from /proc/<pid>/stat
  (utime + stime) over the window.

    .venv/bin/python bench/chat_sessions.py --concurrency 1 --duration 15 --chats-for-memory 0
    .venv/bin/python bench/chat_sessions.py --concurrency 20 --duration 20
    .venv/bin/python bench/chat_sessions.py --concurrency 1 20 --json result.json
    .venv/bin/python bench/chat_sessions.py --server ejabberd --instances 2 --chats-for-memory 0
    .venv/bin/python bench/chat_sessions.py --baseline --concurrency 1 20 --chats-for-memory 0
    .venv/bin/python bench/chat_sessions.py --baseline --chats-for-memory 0 --repeat 4
    .venv/bin/python bench/chat_sessions.py --concurrency 20 --chats-for-memory 0 --scrape 0 5 --rounds 2

``--scrape SECONDS`` fetches both /metrics (the HTTP service's and the component's own
listener, which is on in every run) every SECONDS during each load run, as Prometheus does;
several values (``--scrape 0 5``) and ``--rounds N`` run the variants back to back.

``--py-spy FILE`` samples the component with py-spy during the last load run (raw
collapsed stacks; py-spy must be installed in the venv).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import launcher
from benchlib import mint_tokens, wait_for_quiet

from .baseline import baseline_runs
from .common import MAX_CHATS_LIMIT, RATE_CAP, reference_ms
from .report import code_line, comparison, machine_line, markdown, repeat_summary
from .runs import MemoryResult, RunResult, run_load, run_memory, scrape_cost
from .stack import Stack


def new_parser(doc: str, quiet_wait: float = 30.0, quiet_when: str = "before each run",
               json_stdout: bool = True) -> argparse.ArgumentParser:
    """A benchmark's command line, described by the first paragraph of ``doc``, with the
    options of :func:`add_common_options`."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(p, quiet_wait, quiet_when, json_stdout)
    return p


def add_common_options(p: argparse.ArgumentParser, quiet_wait: float = 30.0,
                       quiet_when: str = "before each run", json_stdout: bool = True) -> None:
    """The options every chat benchmark (chat_sessions.py, flood.py, soak.py) has alike."""
    p.add_argument("--server", choices=("prosody", "ejabberd"), default="prosody",
                   help="the XMPP server, started from the project's own configuration "
                        "(prosody/prosody.cfg.lua or ejabberd/ejabberd.yml; default prosody)")
    p.add_argument("--json", metavar="FILE", type=Path,
                   help="also write the results as JSON to FILE"
                        + (" ('-': JSON only, on stdout)" if json_stdout else ""))
    p.add_argument("--quiet-wait", type=float, default=quiet_wait, metavar="SECONDS",
                   help=f"{quiet_when}, wait at most this long for other processes to use "
                        f"under 15 %% of a CPU (default {quiet_wait:g}; 0 = do not wait)")
    p.add_argument("--keep-workdir", action="store_true",
                   help="keep the temporary folder with the logs (printed at the end)")


def setup_process(open_files: int = 0) -> Any:
    """What a benchmark process does first: stop handlers, quiet slixmpp, enough open files
    (``open_files``: clients here, connections in the XMPP server, a child that inherits
    the limit). Returns the log (stderr)."""
    # SIGINT, SIGTERM, SIGHUP: the first stops the benchmark, later ones cannot cut its
    # cleanup short (scripts/launcher.py).
    launcher.install_stop_handlers()
    # slixmpp logs a traceback when a client's queued stanza meets a closed stream at logout;
    # failures that matter are counted by the benchmark itself.
    logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < open_files:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, open_files), hard))
    return sys.stderr


def wait_quiet(seconds: float, log: Any) -> None:
    """``--quiet-wait``: wait at most ``seconds`` for the machine to quieten, say how busy."""
    if seconds > 0:
        other = wait_for_quiet(seconds, 15.0, log)
        print(f"other processes: {other:.0f} % of a CPU", file=log)


async def quieten(seconds: float, log: Any) -> None:
    """:func:`wait_quiet` from within the event loop."""
    await asyncio.get_running_loop().run_in_executor(None, wait_quiet, seconds, log)


def run_script(main: Callable[[], int]) -> None:
    """A benchmark script's entry point: its exit status, or 130 after Ctrl-C or a stop
    signal (when everything it started has been stopped)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything this benchmark started was stopped", file=sys.stderr)
        sys.exit(130)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = new_parser(__doc__)
    p.add_argument("--instances", type=int, default=1,
                   help="component processes (python -m component) with the same settings "
                        "(default 1). On ejabberd all connect; on Prosody one connects (the "
                        "holder of the Redis lease) and the others stand by")
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 20],
                   help="citizens at once (closed loop); several values run one after another "
                        "(default: 1 20)")
    p.add_argument("--duration", type=float, default=20.0,
                   help="measured seconds per load run (default 20; 0 = no load run)")
    p.add_argument("--warmup", type=float, default=3.0,
                   help="unmeasured seconds before each load run (default 3)")
    p.add_argument("--agents", type=int, default=10,
                   help="agents in the load runs (default 10)")
    p.add_argument("--max-chats", type=int, default=MAX_CHATS_LIMIT,
                   help=f"each agent's max-chats (default and most the component allows: "
                        f"{MAX_CHATS_LIMIT})")
    p.add_argument("--chats-for-memory", type=int, default=1000,
                   help="chats held open to measure the component's memory (default 1000; 0 skips)")
    p.add_argument("--sessions", type=int, default=None,
                   help=f"tokens to pre-mint (default: (warmup + duration) × {RATE_CAP} per run "
                        "+ the memory chats + 200)")
    p.add_argument("--mint-processes", type=int, default=os.cpu_count() or 1)
    p.add_argument("--py-spy", metavar="FILE", type=Path,
                   help="sample the component (the first instance) with py-spy during the last "
                        "load run")
    p.add_argument("--scrape", type=float, nargs="+", default=[0.0], metavar="SECONDS",
                   help="during each load run, fetch both /metrics (the HTTP service's and the "
                        "component's own listener) every SECONDS, as Prometheus does; 0 = not "
                        "at all (default). Several values: one run each, back to back "
                        "(e.g. --scrape 0 5)")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat the whole sequence of load runs this many times (default 1), "
                        "e.g. --scrape 0 5 --rounds 2 runs 0, 5, 0, 5")
    p.add_argument("--prosody-config", type=Path, default=None, metavar="FILE",
                   help="for experiments: run Prosody with FILE instead of prosody/prosody.cfg.lua")
    p.add_argument("--baseline", action="store_true",
                   help="first run the same XMPP work raw (slixmpp clients, no component, HTTP "
                        "or Redis) at each --concurrency, on the same server, and report ID "
                        "Chat beside it")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run the whole benchmark N times (default 1), each on a freshly started "
                        "stack, one after the other; after each run's report, every figure's "
                        "median and range over the runs and how many runs met each of issue "
                        "15's targets (with --baseline). One at a time, the CPU per chat of the "
                        "same code moves by up to 40 %% from run to run on a shared virtual "
                        "machine")
    args = p.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        p.error("--repeat must be between 1 and 20")
    if args.repeat > 1 and args.json is not None and str(args.json) == "-":
        p.error("--repeat does not write JSON to stdout: give --json a file")
    if any(c < 1 or c > 200 for c in args.concurrency):
        p.error("--concurrency must be between 1 and 200")
    if not 0 <= args.duration <= 300 or not 0 <= args.warmup <= 60:
        p.error("--duration must be in [0, 300] and --warmup in [0, 60]")
    if not 1 <= args.max_chats <= MAX_CHATS_LIMIT:
        p.error(f"--max-chats must be between 1 and {MAX_CHATS_LIMIT} (the component's limit)")
    if not 1 <= args.agents <= 200:
        p.error("--agents must be between 1 and 200")
    if not 0 <= args.chats_for_memory <= 5000:
        p.error("--chats-for-memory must be between 0 and 5000")
    if not 1 <= args.instances <= 16:
        p.error("--instances must be between 1 and 16")
    if args.prosody_config is not None and args.server != "prosody":
        p.error("--prosody-config needs --server prosody")
    if any(sc < 0 or 0 < sc < 1 or sc > 60 for sc in args.scrape):
        p.error("--scrape must be 0 or between 1 and 60 seconds")
    if not 1 <= args.rounds <= 10:
        p.error("--rounds must be between 1 and 10")
    if args.duration == 0:
        args.concurrency = []
    runs = len(args.concurrency) * (len(args.scrape) * args.rounds + (1 if args.baseline else 0))
    if args.sessions is None:
        args.sessions = (math.ceil((args.warmup + args.duration) * RATE_CAP) * runs
                         + args.chats_for_memory + 200)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeat > 1:
        return repeat(sys.argv[1:] if argv is None else argv, args)
    log = setup_process(open_files=2 * args.chats_for_memory + 500)
    mem_agents = math.ceil(args.chats_for_memory / args.max_chats) if args.chats_for_memory else 0
    names = [f"agent{i:03d}" for i in range(max(args.agents, mem_agents, 2))]
    planned = (len(args.concurrency) * (len(args.scrape) * args.rounds + (1 if args.baseline else 0))
               * (args.warmup + args.duration))
    t = time.perf_counter()
    tokens = mint_tokens(args.sessions, lifetime=int(900 + planned + args.chats_for_memory / 5),
                         processes=args.mint_processes)
    print(f"minted {len(tokens)} tokens in {time.perf_counter() - t:.1f} s", file=log)

    results: list[RunResult] = []
    raw: list[RunResult] = []
    memory: MemoryResult | None = None
    per_scrape: dict[str, float] = {}
    code = code_line()  # before the run: the processes under test start from this code
    tmp = tempfile.mkdtemp(prefix="idchat-chatbench-")
    stack = Stack(Path(tmp), names, args.server, args.instances, args.prosody_config)
    if args.prosody_config is not None:
        print(f"NOTE: Prosody runs with {args.prosody_config}, not the project configuration",
              file=log)
    if args.instances > 1 and args.server == "prosody":
        print(f"NOTE: on Prosody only one of the {args.instances} component instances is "
              "connected (the holder of the Redis lease); the others stand by", file=log)
    with stack.running(args.keep_workdir, log):
        stack.start(log, services=not args.baseline)

        async def runs() -> None:
            nonlocal memory, raw
            loop = asyncio.get_running_loop()

            async def quiet() -> None:
                await quieten(args.quiet_wait, log)
            if args.baseline:
                raw = await baseline_runs(stack, names[:args.agents], args.concurrency,
                                          args.warmup, args.duration, quiet, log)
                await loop.run_in_executor(None, stack.start_services, log)
            if args.chats_for_memory:
                await quiet()
                print(f"memory: {args.chats_for_memory} chats held open, {mem_agents} agents × "
                      f"{args.max_chats} ...", file=log)
                memory = await run_memory(stack, tokens, args.chats_for_memory,
                                          names[:mem_agents], args.max_chats, log)
            plan = [(c, sc) for _ in range(args.rounds) for c in args.concurrency
                    for sc in args.scrape]
            for i, (concurrency, scrape) in enumerate(plan):
                spy = args.py_spy if (args.py_spy and i == len(plan) - 1) else None
                await quiet()
                print(f"load: {concurrency} citizens, {args.agents} agents × {args.max_chats}, "
                      f"{args.warmup:g} s warm-up + {args.duration:g} s"
                      f"{f', /metrics scraped every {scrape:g} s' if scrape else ''} ...", file=log)
                ref_before = reference_ms()
                results.append(await run_load(stack, tokens, concurrency, names[:args.agents],
                                              args.max_chats, args.warmup, args.duration, spy, log,
                                              scrape))
                results[-1].ref_ms_before, results[-1].ref_ms_after = ref_before, reference_ms()
                stack.check_alive()
            if any(args.scrape):
                per_scrape.update(await scrape_cost(stack))
                print(f"CPU per scrape: {per_scrape}", file=log)

        asyncio.run(runs())

    table = markdown(results, memory, stack.server_label, stack.component_names)
    if raw:
        table = comparison(raw, results, stack.server_label) + "\n\n" + table
    if per_scrape:
        every = min(x for x in args.scrape if x)
        both = per_scrape["http"] + per_scrape["component"]
        table += ("\n\nOne scrape, after the load runs (30 of each, 1.05 s apart, less the idle CPU "
                  "of as long without scrapes): HTTP service "
                  f"{per_scrape['http']:.2f} ms of CPU, component {per_scrape['component']:.2f} ms; "
                  f"every {every:g} s that is {100 * both / 1000 / every:.3f} % of one CPU.")
    machine = machine_line(args.server, args.instances) + "; " + code
    payload = {"machine": machine, "server": args.server, "instances": args.instances,
               "results": [asdict(r) for r in results], "baseline": [asdict(r) for r in raw],
               "memory": asdict(memory) if memory else None, "cpu_ms_per_scrape": per_scrape}
    if args.json is not None and str(args.json) == "-":
        print(json.dumps(payload, indent=2))
        return 0
    print(machine)
    print()
    print(table)
    if args.json is not None:
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


def repeat(argv: list[str], args: argparse.Namespace) -> int:
    """``--repeat N``: this benchmark N times as a child process with the same options (the
    last ``--repeat`` and ``--json`` on a command line win), each starting and stopping its
    own stack; each run's report, then the summary over the runs. With ``--json``: every
    run's JSON under "runs"."""
    script = Path(__file__).resolve().parent.parent / "chat_sessions.py"
    payloads: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="idchat-chatbench-repeat-") as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"run-{i + 1}.json"
            print(f"repeat: run {i + 1} of {args.repeat}", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, str(script), *argv, "--repeat", "1",
                                   "--json", str(out)], stdout=subprocess.PIPE, text=True)
            print(f"## Run {i + 1} of {args.repeat}\n\n{done.stdout}", flush=True)
            if done.returncode != 0:
                print(f"run {i + 1} failed (exit status {done.returncode}); no summary",
                      file=sys.stderr)
                return done.returncode
            payloads.append(json.loads(out.read_text()))
    runs = [([RunResult(**r) for r in p["baseline"]], [RunResult(**r) for r in p["results"]])
            for p in payloads]
    print(repeat_summary(runs, "Prosody" if args.server == "prosody" else "ejabberd"))
    if args.json is not None:
        args.json.write_text(json.dumps({"runs": payloads}, indent=2) + "\n")
    return 0
