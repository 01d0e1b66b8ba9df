#!/usr/bin/env python3
"""Soak benchmark: whole chats at a steady rate for a long time; nothing may be left behind.

The stack of bench/chat_sessions.py (a private Redis, Prosody or ejabberd from the project's
configuration, ``python -m xmpp_plugin``, ``python -m component``, on free loopback ports,
the published test keys), and in this process:

* **citizens** arriving at ``--rate`` chats/s, evenly spaced: ``POST /start_communication``
  (with ``auth_result``; or, for ``--attr-url-share`` of them, without it and then the token
  posted to ``attr_url`` as an auth plugin does), the page, an anonymous guest who claims
  and joins. Most wait for an agent and chat; ``--give-up`` of them give up while waiting
  (after 0.3–1.5 s without an agent): half press "end" (an end request), half close the
  browser (log out: the component ends the chat once ``routing.citizen_gone_seconds`` pass);
* **agents** (``--agents`` × ``--max-chats``) who accept each offer after 1–3 s of
  "reading", receive the attributes, join, exchange two messages each way with the citizen
  (``--talk-seconds`` apart) and end the chat. An agent whose citizen left sits in the
  empty room until the component ends the chat.

Every ``--report-every`` minutes a row: chats started, served, given up, errors; setup
latency percentiles (``start_communication`` until the citizen is in the room), claim →
offer and accept → attributes; RSS of every process; Redis keys and used memory; open rooms
on the XMPP server (Prosody: ``prosodyctl shell "muc:list(...)"``, for which Prosody runs
the project configuration plus ``admin_shell``; ejabberd: ``ejabberdctl muc_online_rooms
global``, for which ejabberd runs the project configuration plus ``mod_muc_admin``) and
live chats in the component's lifetime index.

After ``--minutes`` the arrivals stop, every chat ends (the agents end theirs; the
component ends the abandoned ones), and the verdict:

* Redis holds no per-chat key (``session``, ``chat``, ``declined``, ``offer``, ``guest``,
  ``ticket``, ``attrurl``, ``active``: xmpp_plugin/store.py ``Keys``) and no chat in an
  index (``lives``, ``offers``, ``gone``, ``queue:*``, ``agentchats:*``). The memory of
  accepted tokens (``token:*``) is not per chat: it expires with each token (300 s);
* the XMPP server has no room;
* each process's RSS is within 10 % of its level after the warm-up (``--warmup-minutes``).

Prints a Markdown table ready to paste, and exits 1 when a criterion fails.

    .venv/bin/python bench/soak.py --minutes 60
    .venv/bin/python bench/soak.py --server ejabberd --minutes 10 --report-every 2 --warmup-minutes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # chatbench puts the rest on the path

import chatbench  # first: puts scripts/ (launcher) and the project on the path
import launcher
from benchlib import mint_chunk, minting_pool, percentile
from chatbench.actors import (
    AgentBase,
    claim,
    close_agents,
    connect,
    end_as_citizen,
    http_session,
    start_and_page,
)
from chatbench.cli import new_parser, run_script, setup_process, wait_quiet
from chatbench.clients import StepError, Waits, close_client, guest_login, join_room
from chatbench.common import (
    CITIZEN_NICK,
    MUC_DOMAIN,
    cpu_snapshot,
    cpu_used,
    established_connections,
    rss_kib,
)
from chatbench.report import code_line, machine_line
from chatbench.stack import Stack

ROOT = chatbench.ROOT
PREFIX = "idchat"  # redis.key_prefix: the default, as the stack runs it
# xmpp_plugin/store.py Keys: what exists once per chat (or per session), and the indexes
# whose members are chats.
PER_CHAT = ("session", "chat", "declined", "offer", "guest", "ticket", "attrurl", "active")
INDEXES = ("lives", "offers", "gone", "queue", "agentchats")
TOKEN_LIFETIME = 300  # ID Contact's tokens live 300 s
PATIENCE = (0.3, 1.5)  # s a citizen who gives up waits for an agent after joining
ACCEPT_DELAY = (1.0, 3.0)  # s an agent "reads" an offer before accepting
WAIT = 20.0  # s any single step may take
PROCESSES = ("xmpp", "component", "http", "redis")
MEMORY_TOLERANCE = 0.10


# --------------------------------------------------------------------------- bookkeeping

@dataclass
class Chat:
    """What both sides record of one chat (perf_counter seconds)."""
    t_claimed: float = math.nan
    t_offer: float = math.nan
    t_accept_sent: float = math.nan
    t_attrs: float = math.nan


@dataclass
class Interval:
    started: int = 0
    served: int = 0
    gave_up_end: int = 0
    gave_up_close: int = 0
    errors: int = 0
    setup_ms: list[float] = field(default_factory=list)
    claim_offer_ms: list[float] = field(default_factory=list)
    accept_attrs_ms: list[float] = field(default_factory=list)


class Run:
    """Counters and samples shared by citizens and agents."""

    def __init__(self) -> None:
        self.chats: dict[str, Chat] = {}
        self.now = Interval()
        self.total = Interval()
        self.errors: Counter[str] = Counter()
        self.events: Counter[str] = Counter()  # not errors: revoked offers, late accepts, ...

    def prune(self, before: float) -> None:
        """Forget chats claimed before ``before`` (perf_counter): the run keeps no history."""
        for cid in [c for c, rec in self.chats.items() if not rec.t_claimed >= before]:
            del self.chats[cid]

    def chat(self, cid: str) -> Chat:
        rec = self.chats.get(cid)
        if rec is None:
            rec = self.chats[cid] = Chat()
        return rec

    def count(self, name: str, n: int = 1) -> None:
        for iv in (self.now, self.total):
            setattr(iv, name, getattr(iv, name) + n)

    def sample(self, name: str, ms: float) -> None:
        if not math.isnan(ms):
            for iv in (self.now, self.total):
                getattr(iv, name).append(ms)

    def error(self, step: str) -> None:
        self.errors[step] += 1
        self.count("errors")

    def next_interval(self) -> Interval:
        done, self.now = self.now, Interval()
        return done


# --------------------------------------------------------------------------- agents

class Agent(AgentBase):
    """Reads each offer for a while before accepting it, talks with pauses, and sits in an
    empty room until the component ends the chat when the citizen has left."""

    def __init__(self, run: Run, xmpp: Any, nick: str, talk: float, chat_wait: float) -> None:
        super().__init__(xmpp, nick, timeout=WAIT)
        self.run, self.talk = run, talk
        self.chat_wait = chat_wait  # the longest an empty room may stay open (citizen gone)
        self.waits = Waits()
        self.revoked: set[str] = set()

    def on_attributes(self, el: Any, now: float) -> None:
        cid = el["chat"]
        rec = self.run.chat(cid)
        if math.isnan(rec.t_attrs):
            rec.t_attrs = now
        self.waits.set(f"{cid} attrs")

    def on_ended(self, cid: str) -> None:
        self.waits.set(f"{cid} ended")

    def on_revoke(self, el: Any) -> None:
        self.revoked.add(el["offer"])
        self.run.events[f"offer revoked ({el['reason']})"] += 1

    def on_citizen_said(self, cid: str, body: str) -> None:
        if body:
            self.waits.set(f"{cid} said {body}")

    def on_citizen_in(self, cid: str) -> None:
        self.waits.set(f"{cid} citizen in")

    async def take(self, oid: str, cid: str, t_offer: float) -> None:
        from slixmpp import JID
        from slixmpp.exceptions import IqError, IqTimeout
        rec = self.run.chat(cid)
        if math.isnan(rec.t_offer):
            rec.t_offer = t_offer
        await asyncio.sleep(random.uniform(*ACCEPT_DELAY))
        if oid in self.revoked:
            self.revoked.discard(oid)
            return
        rec.t_accept_sent = time.perf_counter()
        try:
            accepted = (await self.iq("idchat_accept", offer=oid))["idchat_accepted"]
        except IqError as exc:  # the citizen gave up meanwhile: the offer is gone
            self.run.events[f"accept refused ({exc.iq['error']['condition']})"] += 1
            return
        except IqTimeout:
            self.run.error("agent: accept timeout")
            return
        room = accepted["room"]
        ended = f"{cid} ended"
        try:
            if await self.waits.first([f"{cid} attrs"], WAIT) is None:
                raise StepError("agent: attributes", "missing")
            self.run.sample("accept_attrs_ms", 1000 * (rec.t_attrs - rec.t_accept_sent))
            if not math.isnan(rec.t_claimed) and not math.isnan(rec.t_offer):
                self.run.sample("claim_offer_ms", 1000 * (rec.t_offer - rec.t_claimed))
            await join_room(self.xmpp, room, self.nick)
            # A citizen who closed the browser never comes: the component ends the chat.
            if await self.waits.first([f"{cid} citizen in", ended], self.chat_wait) != \
                    f"{cid} citizen in":
                if not self.waits.is_set(ended):
                    raise StepError("agent: citizen in room", "timeout")
                self.run.events["agent: chat ended before the citizen came"] += 1
                return
            for n in (1, 2):
                self.say(room, f"a{n} {cid}")
                got = await self.waits.first([f"{cid} said c{n} {cid}", ended], WAIT)
                if got != f"{cid} said c{n} {cid}":
                    raise StepError(f"agent: c{n}", "ended early" if got else "timeout")
                if n == 1:
                    await asyncio.sleep(self.talk)
            await self.iq("idchat_end", chat=cid)
            if await self.waits.first([ended], WAIT) is None:
                raise StepError("agent: ended", "timeout")
        except StepError as exc:
            self.run.error(str(exc))
        except (IqError, IqTimeout) as exc:
            cond = exc.iq["error"]["condition"] if isinstance(exc, IqError) else "timeout"
            self.run.error(f"agent: end {cond}")
        finally:
            self.waits.forget(f"{cid} ")
            muc = self.xmpp.plugin["xep_0045"]
            muc.rooms[None].pop(JID(room), None)  # slixmpp keeps every room it joined
            muc.our_nicks[None].pop(JID(room), None)


async def connect_agents(run: Run, stack: Stack, names: list[str], max_chats: int,
                         talk: float, chat_wait: float) -> list[Agent]:
    return await connect(lambda xmpp, nick: Agent(run, xmpp, nick, talk, chat_wait), names,
                         stack.c2s_port, max_chats, WAIT)


# --------------------------------------------------------------------------- citizens

class Citizen:
    """One browser: the core's start (and maybe the auth plugin's attr_url), the page, a guest."""

    def __init__(self, run: Run, http: Any, stack: Stack) -> None:
        self.run, self.http, self.stack = run, http, stack
        self.xmpp: Any = None
        self.cid = ""
        self.waits = Waits()
        self.states: list[str] = []

    def _on_headline(self, msg: Any) -> None:
        state = msg["idchat_status"]["state"]
        if state:
            self.states.append(state)
            self.waits.set(state)

    def _on_groupchat(self, msg: Any) -> None:
        if msg["from"].resource not in ("", CITIZEN_NICK) and msg["body"]:
            self.waits.set(f"said {msg['body']}")

    async def session(self, token: str, via_attr_url: bool, give_up: str,
                      patience: float, max_wait: float) -> None:
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        t0 = time.perf_counter()
        self.run.count("started")
        try:
            _, _, ticket = await start_and_page(self.http, self.stack.base, token, via_attr_url)

            def handlers(xmpp: Any) -> None:
                xmpp.register_handler(Callback("soak status",
                                               StanzaPath("message@type=headline"),
                                               self._on_headline))
                xmpp.add_event_handler("groupchat_message", self._on_groupchat)
            xmpp = self.xmpp = await guest_login(self.stack.c2s_port, handlers)
            claimed = await claim(xmpp, ticket, WAIT)
            self.cid = cid = claimed["chat"]
            self.run.chat(cid).t_claimed = time.perf_counter()
            if claimed["state"] == "assigned":
                self.waits.set("assigned")
            await join_room(xmpp, claimed["room"], claimed["nick"], timeout=WAIT)
            self.run.sample("setup_ms", 1000 * (time.perf_counter() - t0))
            if give_up and await self.waits.first(["assigned", "ended"], patience) is None:
                await self._give_up(give_up)
                return
            got = await self.waits.first(["assigned", "ended"], max_wait)
            if got != "assigned":
                raise StepError("wait for an agent", "ended" if got else "timeout")
            for n in (1, 2):
                got = await self.waits.first([f"said a{n} {cid}", "ended"], WAIT)
                if got != f"said a{n} {cid}":
                    raise StepError(f"citizen: a{n}", "ended early" if got else "timeout")
                xmpp.send_message(mto=claimed["room"], mbody=f"c{n} {cid}", mtype="groupchat")
            if await self.waits.first(["ended"], WAIT) is None:
                raise StepError("citizen: ended", "timeout")
            self.run.count("served")
        except StepError as exc:
            self.run.error(str(exc))
        finally:
            if self.xmpp is not None:
                await close_client(self.xmpp, wait=0.5)
                self.xmpp = None

    async def _give_up(self, how: str) -> None:
        if how == "end":  # the page's "end chat" button
            if not await end_as_citizen(self.xmpp, WAIT):  # an agent may have ended it just now
                self.run.events["citizen end refused"] += 1
            if await self.waits.first(["ended"], WAIT) is None:
                raise StepError("citizen: ended after giving up", "timeout")
            self.run.count("gave_up_end")
        else:  # closes the browser: logs out, the room notices
            self.run.count("gave_up_close")


# --------------------------------------------------------------------------- tokens

class TokenFeed:
    """Tokens minted shortly before use, in a worker process, with ID Contact's lifetime."""

    def __init__(self, rate: float) -> None:
        self.ahead = max(20, math.ceil(rate * 20))  # about 20 s of arrivals
        self.tokens: deque[str] = deque()
        self.pool = minting_pool(1)

    async def fill(self) -> None:
        loop = asyncio.get_running_loop()
        self.tokens.extend(await loop.run_in_executor(self.pool, mint_chunk, self.ahead,
                                                      TOKEN_LIFETIME))

    async def keep_full(self) -> None:
        while True:
            if len(self.tokens) < self.ahead:
                await self.fill()
            else:
                await asyncio.sleep(0.5)

    def take(self) -> str | None:
        return self.tokens.popleft() if self.tokens else None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- readings

@dataclass
class Reading:
    minute: float
    started: int = 0
    served: int = 0
    gave_up_end: int = 0
    gave_up_close: int = 0
    errors: int = 0
    setup_ms: list[float] = field(default_factory=list)  # p50, p95, p99
    claim_offer_ms: list[float] = field(default_factory=list)  # p50, p99
    accept_attrs_ms: list[float] = field(default_factory=list)  # p50, p99
    rss_mib: dict[str, float] = field(default_factory=dict)
    redis_keys: int = 0
    redis_used_mib: float = 0.0
    keys_by_kind: dict[str, int] = field(default_factory=dict)
    index_members: dict[str, int] = field(default_factory=dict)
    rooms: int | None = None
    live_chats: int = 0
    c2s_connections: int = 0


class Observer:
    """Reads the processes, Redis and the XMPP server."""

    def __init__(self, stack: Stack, prosody_config: Path | None) -> None:
        import redis.asyncio as aioredis
        self.stack = stack
        self.pids = stack.pids()
        self.redis = aioredis.from_url(stack.redis.url)
        self.prosody_config = prosody_config

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: each process, this load generator, and the whole machine."""
        return cpu_snapshot({name: self.pids[name] for name in PROCESSES})

    def rss(self) -> dict[str, float]:
        out = {name: rss_kib(self.pids[name]) / 1024 for name in PROCESSES}
        out["load generator"] = rss_kib(os.getpid()) / 1024
        return out

    async def keys(self) -> tuple[dict[str, int], dict[str, int]]:
        """Keys by kind (``<prefix>:<kind>:...``), and the chats held in each index."""
        kinds: Counter[str] = Counter()
        members: Counter[str] = Counter()
        async for raw in self.redis.scan_iter(match=f"{PREFIX}:*", count=1000):
            key = raw.decode()
            kind = key.split(":", 2)[1] if key.count(":") else key
            kinds[kind] += 1
            if kind in INDEXES:
                kind_of = (await self.redis.type(key)).decode()
                size = {"zset": self.redis.zcard, "set": self.redis.scard,
                        "list": self.redis.llen, "hash": self.redis.hlen}.get(kind_of)
                members[kind] += int(await size(key)) if size else 1
        return dict(kinds), {k: members.get(k, 0) for k in INDEXES}

    async def per_chat_ttls(self) -> dict[str, list[int]]:
        """TTL (s; -1: none) of every per-chat key still there, by kind."""
        out: dict[str, list[int]] = {}
        for kind in PER_CHAT:
            async for raw in self.redis.scan_iter(match=f"{PREFIX}:{kind}:*", count=1000):
                out.setdefault(kind, []).append(int(await self.redis.ttl(raw)))
        return out

    async def token_ttl_max(self) -> int:
        ttls = [int(await self.redis.ttl(raw))
                async for raw in self.redis.scan_iter(match=f"{PREFIX}:token:*", count=1000)]
        return max(ttls, default=0)

    async def rooms(self) -> int | None:
        """Rooms the XMPP server holds now, asked the server itself; None if it cannot say."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._rooms)

    def _rooms(self) -> int | None:
        xmpp = self.stack.xmpp
        if self.stack.server_kind == "ejabberd":
            result = xmpp._ejabberdctl("muc_online_rooms", "global", timeout=60)
            if result.returncode != 0:
                return None
            return sum(1 for line in result.stdout.splitlines() if "@" in line)
        if self.prosody_config is None:
            return None
        result = launcher.run(["prosodyctl", "--config", str(self.prosody_config), "shell",
                               f"muc:list('{MUC_DOMAIN}')"], cwd=xmpp.workdir, env=xmpp.env,
                              capture_output=True, text=True, timeout=60)
        match = re.search(r"OK: (\d+) rooms?", result.stdout)
        return int(match.group(1)) if match else None

    def c2s_connections(self) -> int:
        return established_connections(self.stack.c2s_port)

    async def reading(self, minute: float, iv: Interval | None) -> Reading:
        r = Reading(minute=round(minute, 1))
        if iv is not None:
            r.started, r.served, r.errors = iv.started, iv.served, iv.errors
            r.gave_up_end, r.gave_up_close = iv.gave_up_end, iv.gave_up_close
            r.setup_ms = _pcts(iv.setup_ms, (50, 95, 99))
            r.claim_offer_ms = _pcts(iv.claim_offer_ms, (50, 99))
            r.accept_attrs_ms = _pcts(iv.accept_attrs_ms, (50, 99))
        r.rss_mib = {k: round(v, 1) for k, v in self.rss().items()}
        r.redis_keys = int(await self.redis.dbsize())
        r.redis_used_mib = round(int((await self.redis.info("memory"))["used_memory"]) / 2**20, 2)
        r.keys_by_kind, r.index_members = await self.keys()
        r.rooms = await self.rooms()
        r.live_chats = int(await self.redis.zcard(f"{PREFIX}:lives"))
        r.c2s_connections = self.c2s_connections()
        return r

    async def close(self) -> None:
        await self.redis.aclose()


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two points)."""
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def _pcts(values: list[float], ps: tuple[int, ...]) -> list[float]:
    ordered = sorted(values)
    return [round(percentile(ordered, p), 1) for p in ps]


def prosody_soak_config(workdir: Path) -> Path | None:
    """The project's Prosody configuration (the demo profile) plus ``admin_shell`` (a
    root-only Unix socket in the data folder), so that ``prosodyctl shell`` can count the
    rooms: copies of prosody/prosody.cfg.lua and the common.cfg.lua it includes, with
    prosody/modules linked beside them. None if the files no longer look as expected."""
    source = ROOT / "prosody"
    folder = workdir / "prosody-soak"
    common = (source / "common.cfg.lua").read_text()
    anchor = "\nmodules_enabled = {\n"  # the global one, for every VirtualHost
    if anchor not in common or 'Include "common.cfg.lua"' not in \
            (source / "prosody.cfg.lua").read_text():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "common.cfg.lua").write_text(common.replace(
        anchor, anchor + '\t"admin_shell"; -- soak benchmark only: room count (prosodyctl '
        "shell)\n", 1))
    (folder / "prosody.cfg.lua").write_text((source / "prosody.cfg.lua").read_text())
    (folder / "modules").symlink_to(source / "modules")
    return folder / "prosody.cfg.lua"


def ejabberd_with_muc_admin(server: Any) -> None:
    """After the project's ejabberd.yml is rendered, add ``mod_muc_admin`` beside
    ``mod_muc`` (it must be on the same host), for ``ejabberdctl muc_online_rooms``."""
    render = server._prepare_workdir
    anchor = "\n      # why: one MUC service"

    def prepare() -> None:
        render()
        conf = server.conf_dir / "ejabberd.yml"
        text = conf.read_text()
        if anchor not in text:
            raise RuntimeError("ejabberd.yml changed: no place found for mod_muc_admin")
        conf.write_text(text.replace(anchor, "\n      mod_muc_admin: {}  # soak benchmark only: "
                                     "room count" + anchor, 1))
    server._prepare_workdir = prepare


# --------------------------------------------------------------------------- the run

async def soak(args: argparse.Namespace, stack: Stack, observer: Observer, log: Any
               ) -> tuple[list[Reading], Reading, Reading, dict[str, Any]]:
    run = Run()
    names = [f"agent{i:03d}" for i in range(args.agents)]
    chat_wait = args.citizen_gone_seconds + 60.0
    agents = await connect_agents(run, stack, names, args.max_chats, args.talk_seconds, chat_wait)
    feed = TokenFeed(args.rate)
    await feed.fill()
    filler = asyncio.ensure_future(feed.keep_full())
    active: set[asyncio.Task[None]] = set()
    readings: list[Reading] = []
    drain: dict[str, Any] = {}
    rng = random.Random(args.seed)
    loop = asyncio.get_running_loop()
    try:
        async with http_session(args.max_open + 10) as http:
            t_start = loop.time()
            cpu0, wall0, load0 = observer.cpu(), time.monotonic(), os.getloadavg()[0]
            end = t_start + 60 * args.minutes
            next_report = t_start + 60 * args.report_every
            i = 0
            print(f"soak: {args.minutes:g} min at {args.rate:g} chats/s; a row every "
                  f"{args.report_every:g} min", file=log, flush=True)
            while loop.time() < end:
                due = t_start + i / args.rate
                if due > loop.time():
                    await asyncio.sleep(min(due, next_report, end) - loop.time())
                if loop.time() >= next_report:
                    row = await observer.reading((loop.time() - t_start) / 60, run.next_interval())
                    readings.append(row)
                    print(row_line(row, stack.server_label), flush=True)
                    next_report += 60 * args.report_every
                    stack.check_alive()
                    run.prune(time.perf_counter() - 600)
                    continue
                if loop.time() < due or loop.time() >= end:
                    continue
                i += 1
                token = feed.take()
                if token is None or len(active) >= args.max_open:
                    run.events["arrival skipped (" + ("no token yet" if token is None else
                                                      "too many open") + ")"] += 1
                    continue
                give_up = ""
                if rng.random() < args.give_up:
                    give_up = "end" if rng.random() < 0.5 else "close"
                task = asyncio.ensure_future(Citizen(run, http, stack).session(
                    token, rng.random() < args.attr_url_share, give_up,
                    rng.uniform(*PATIENCE), args.max_wait))
                active.add(task)
                task.add_done_callback(active.discard)
            if loop.time() - (next_report - 60 * args.report_every) > 5:  # the last part
                row = await observer.reading((loop.time() - t_start) / 60, run.next_interval())
                readings.append(row)
                print(row_line(row, stack.server_label), flush=True)
            cpu1, wall, load1 = observer.cpu(), time.monotonic() - wall0, os.getloadavg()[0]
            drain["cpu_pct"] = {("other processes" if k == "other" else k): round(100 * v / wall, 1)
                                for k, v in cpu_used(cpu0, cpu1).items()}
            drain["loadavg"] = [round(load0, 2), round(load1, 2)]
            # Every chat ends: the citizens' sessions finish, then the component ends the
            # abandoned ones (citizen gone) and lets the tickets and throttles expire.
            t_drain = loop.time()
            print(f"soak: arrivals stopped; waiting for {len(active)} chats in flight ...",
                  file=log, flush=True)
            if active:
                await asyncio.wait(active, timeout=args.max_wait + 4 * WAIT)
            limit = t_drain + args.citizen_gone_seconds + args.drain_seconds
            said = 0.0
            last_seen: dict[str, float] = {}  # kind -> s after the arrivals stopped
            while True:
                ttls = await observer.per_chat_ttls()
                _, members = await observer.keys()
                rooms = await observer.rooms()
                seen = [*(k for k, v in ttls.items() if v), *(k for k, v in members.items() if v)]
                for kind in seen + (["rooms"] if rooms else []):
                    last_seen[kind] = round(loop.time() - t_drain, 1)
                left = sum(map(len, ttls.values())) + sum(members.values()) + (rooms or 0)
                if (left == 0 and not active) or loop.time() > limit:
                    break
                if loop.time() - said >= 10:
                    said = loop.time()
                    print(f"soak: drain {loop.time() - t_drain:.0f} s: per-chat keys "
                          f"{ {k: len(v) for k, v in ttls.items()} }, in indexes "
                          f"{ {k: v for k, v in members.items() if v} }, rooms {rooms}, "
                          f"in flight {len(active)}", file=log, flush=True)
                await asyncio.sleep(2)
            drain.update({"seconds": round(loop.time() - t_drain, 1), "last_seen": last_seen,
                          "in_flight_left": len(active), "per_chat_ttls": ttls,
                          "token_ttl_max": await observer.token_ttl_max()})
            await asyncio.sleep(3)  # the processes settle
            final = await observer.reading((loop.time() - t_start) / 60, None)
            totals = Reading(minute=round((t_drain - t_start) / 60, 1))
            tv = run.total
            totals.started, totals.served, totals.errors = tv.started, tv.served, tv.errors
            totals.gave_up_end, totals.gave_up_close = tv.gave_up_end, tv.gave_up_close
            totals.setup_ms = _pcts(tv.setup_ms, (50, 95, 99))
            totals.claim_offer_ms = _pcts(tv.claim_offer_ms, (50, 99))
            totals.accept_attrs_ms = _pcts(tv.accept_attrs_ms, (50, 99))
            drain["errors"] = dict(run.errors)
            drain["events"] = dict(run.events)
    finally:
        for task in list(active):
            task.cancel()
        await asyncio.gather(*active, return_exceptions=True)
        filler.cancel()
        await asyncio.gather(filler, return_exceptions=True)
        feed.close()
        await close_agents(agents)
    return readings, totals, final, drain


# --------------------------------------------------------------------------- report

def fmt(v: float | None, digits: int = 1) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _ms(values: list[float]) -> str:
    return " / ".join(fmt(v, 0) for v in values) if values else "–"


def table_head(server_label: str) -> list[str]:
    return [f"| min | chats started | served | gave up (end / close) | errors "
            f"| setup p50 / p95 / p99 ms | claim → offer p50 / p99 ms "
            f"| accept → attributes p50 / p99 ms | RSS MiB: {server_label} / component / "
            f"HTTP / Redis | Redis keys | Redis used MiB | rooms ({server_label}) "
            f"| live chats (index) |",
            "|" + "---:|" * 13]


def row_line(r: Reading, server_label: str) -> str:
    rss = " / ".join(fmt(r.rss_mib.get(p)) for p in PROCESSES)
    return (f"| {r.minute:g} | {r.started} | {r.served} | {r.gave_up_end} / {r.gave_up_close} "
            f"| {r.errors} | {_ms(r.setup_ms)} | {_ms(r.claim_offer_ms)} "
            f"| {_ms(r.accept_attrs_ms)} | {rss} | {r.redis_keys} | {r.redis_used_mib:.2f} "
            f"| {'?' if r.rooms is None else r.rooms} | {r.live_chats} |")


def verdict(readings: list[Reading], final: Reading, drain: dict[str, Any], warmup: float
            ) -> tuple[list[str], bool, dict[str, dict[str, float]]]:
    lines: list[str] = []
    ok = True
    per_chat = {k: v for k, v in drain["per_chat_ttls"].items() if v}
    members = {k: v for k, v in final.index_members.items() if v}
    if per_chat or members:
        ok = False
        detail = "; ".join(f"{k}: {len(v)} (TTL s: {', '.join(map(str, sorted(v)[:5]))}"
                           f"{' …' if len(v) > 5 else ''})" for k, v in per_chat.items())
        lines.append(f"- per-chat keys in Redis: **FAIL** — {detail or 'none'}; chats in "
                     f"indexes: {members or 'none'}")
    else:
        lines.append("- per-chat keys in Redis (session, chat, declined, offer, guest, ticket, "
                     "attrurl, active; chats in lives, offers, gone, queue, agentchats): "
                     "**PASS** (none)")
    seen_rooms = max((r.rooms or 0 for r in readings), default=0)
    if final.rooms is None:
        ok = False
        lines.append("- rooms on the XMPP server: **UNKNOWN** (the server could not be asked)")
    elif seen_rooms == 0 and any(r.live_chats for r in readings):
        ok = False
        lines.append("- rooms on the XMPP server: **UNKNOWN** (the count never saw a room "
                     "while chats were open: it cannot be trusted)")
    else:
        ok = ok and final.rooms == 0
        lines.append(f"- rooms on the XMPP server: **{'PASS' if final.rooms == 0 else 'FAIL'}** "
                     f"({final.rooms}; during the run the count saw up to {seen_rooms})")
    base = next((r for r in readings if r.minute >= warmup - 0.05), None)
    memory: dict[str, dict[str, float]] = {}
    if base is None:
        ok = False
        lines.append(f"- memory: **UNKNOWN** (no reading after the {warmup:g}-minute warm-up)")
    else:
        cells = []
        for p in PROCESSES:
            b, f = base.rss_mib[p], final.rss_mib[p]
            peak = max(r.rss_mib[p] for r in readings + [final])
            change = (f - b) / b
            good = abs(change) <= MEMORY_TOLERANCE
            ok = ok and good
            memory[p] = {"after_warmup": b, "peak": peak, "end": f, "change": round(change, 4)}
            cells.append(f"{p} {b:.1f} → {f:.1f} MiB ({100 * change:+.1f} %, peak {peak:.1f})"
                         f"{'' if good else ' **over 10 %**'}")
        loaded = [r for r in readings if r.minute >= base.minute]
        for p in PROCESSES:
            memory[p]["trend_mib_per_h"] = round(60 * _slope(
                [r.minute for r in loaded], [r.rss_mib[p] for r in loaded]), 1)
        all_good = all(abs(m["change"]) <= MEMORY_TOLERANCE for m in memory.values())
        lines.append(f"- memory within 10 % of its level after the warm-up (minute "
                     f"{base.minute:g}): **{'PASS' if all_good else 'FAIL'}** — "
                     + "; ".join(cells))
        lines.append("- memory trend under load after the warm-up (least squares over the rows), "
                     "MiB per hour: " + ", ".join(f"{p} {memory[p]['trend_mib_per_h']:+g}"
                                                  for p in PROCESSES))
    tokens = final.keys_by_kind.get("token", 0)
    lines.append(f"- not per chat, by design: {tokens} `token` keys (replay memory, each expires "
                 f"with its token; the longest in {drain['token_ttl_max']} s); all keys at the "
                 f"end: {dict(sorted(final.keys_by_kind.items()))}")
    return lines, ok, memory


def markdown(args: argparse.Namespace, stack: Stack, readings: list[Reading], totals: Reading,
             final: Reading, drain: dict[str, Any]) -> tuple[str, bool, dict[str, Any]]:
    label = stack.server_label
    out = [f"### Soak: {label}, {args.minutes:g} min at {args.rate:g} chats/s", "",
           f"{args.agents} agents × {args.max_chats}, give-up share {args.give_up:g} (half end, "
           f"half close the browser), attr_url share {args.attr_url_share:g}, "
           f"`routing.citizen_gone_seconds` {args.citizen_gone_seconds}, "
           f"`store.unclaimed_ttl_seconds` {args.unclaimed_seconds}; a row per "
           f"{args.report_every:g} min (counts and latencies of that interval, readings at its "
           "end).", "",
           "CPU during the run, % of one CPU: " + ", ".join(
               f"{k} {v:g}" for k, v in drain["cpu_pct"].items())
           + f"; 1-minute load average {drain['loadavg'][0]:g} at the start, "
           f"{drain['loadavg'][1]:g} at the end ({os.cpu_count()} CPUs).", "",
           *table_head(label)]
    out += [row_line(r, label) for r in readings]
    out += [f"| **all** | {totals.started} | {totals.served} | {totals.gave_up_end} / "
            f"{totals.gave_up_close} | {totals.errors} | {_ms(totals.setup_ms)} "
            f"| {_ms(totals.claim_offer_ms)} | {_ms(totals.accept_attrs_ms)} | | | | | |",
            f"| after, idle ({drain['seconds']:g} s to drain) | | | | | | | | "
            + " / ".join(fmt(final.rss_mib.get(p)) for p in PROCESSES)
            + f" | {final.redis_keys} | {final.redis_used_mib:.2f} "
            f"| {'?' if final.rooms is None else final.rooms} | {final.live_chats} |", ""]
    lines, ok, memory = verdict(readings, final, drain, args.warmup_minutes)
    out += ["Pass criteria (after the run, once every chat has ended):", "", *lines,
            f"- errors: {drain['errors'] or 'none'}; other events: {drain['events'] or 'none'}",
            f"- chats in flight after the drain: {drain['in_flight_left']}; after the arrivals "
            "stopped, the last of each kind was seen at (s): "
            + (", ".join(f"{k} {v:g}" for k, v in sorted(drain["last_seen"].items(),
                                                          key=lambda kv: kv[1])) or "–"),
            "", f"**{'PASS' if ok else 'FAIL'}**"]
    return "\n".join(out), ok, {"memory": memory}


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = new_parser(__doc__, quiet_wait=0.0, quiet_when="before starting (a soak runs on the "
                   "machine as it is by default)", json_stdout=False)
    p.add_argument("--minutes", type=float, default=60.0, help="length of the run (default 60)")
    p.add_argument("--report-every", type=float, default=5.0, metavar="MIN",
                   help="minutes between rows (default 5)")
    p.add_argument("--warmup-minutes", type=float, default=None, metavar="MIN",
                   help="the memory baseline is the first row at or after this (default: the "
                        "first row)")
    p.add_argument("--rate", type=float, default=2.0, help="chats started per second (default 2)")
    p.add_argument("--agents", type=int, default=8, help="agents (default 8)")
    p.add_argument("--max-chats", type=int, default=3, help="each agent's max-chats (default 3)")
    p.add_argument("--give-up", type=float, default=0.2,
                   help="share of citizens who give up while waiting (default 0.2)")
    p.add_argument("--attr-url-share", type=float, default=0.25,
                   help="share of sessions whose token comes through attr_url (default 0.25)")
    p.add_argument("--talk-seconds", type=float, default=2.0,
                   help="pause in the middle of each chat (default 2)")
    p.add_argument("--max-wait", type=float, default=120.0,
                   help="longest a patient citizen waits for an agent: an error after (120)")
    p.add_argument("--citizen-gone-seconds", type=int, default=30,
                   help="routing.citizen_gone_seconds for the component (default 30; "
                        "production default 120)")
    p.add_argument("--unclaimed-seconds", type=int, default=60,
                   help="store.unclaimed_ttl_seconds: how long a session nobody claimed (a "
                        "failed claim) lives (default 60, so that the drain sees it go; "
                        "production default 900)")
    p.add_argument("--drain-seconds", type=float, default=150.0,
                   help="after the run, how long (beyond citizen-gone) to wait for every "
                        "record to go (default 150: an unused claim ticket lives 120 s)")
    p.add_argument("--max-open", type=int, default=300,
                   help="citizens in flight at most; arrivals beyond are skipped and counted")
    p.add_argument("--seed", type=int, default=1, help="random seed (who gives up, how)")
    args = p.parse_args(argv)
    if not 0 < args.minutes <= 24 * 60 or not 0 < args.report_every <= args.minutes:
        p.error("--minutes must be in (0, 1440] and --report-every in (0, minutes]")
    if not 0 < args.rate <= 50:
        p.error("--rate must be in (0, 50]")
    if not (0 <= args.give_up <= 1 and 0 <= args.attr_url_share <= 1):
        p.error("--give-up and --attr-url-share are shares in [0, 1]")
    if not 1 <= args.max_chats <= 20 or not 1 <= args.agents <= 200:
        p.error("--max-chats must be in [1, 20] and --agents in [1, 200]")
    if args.warmup_minutes is None:
        args.warmup_minutes = args.report_every
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = setup_process(open_files=4 * args.max_open + 500)
    code = code_line()
    tmp = Path(tempfile.mkdtemp(prefix="idchat-soak-"))
    config = prosody_soak_config(tmp) if args.server == "prosody" else None
    stack = Stack(tmp, [f"agent{i:03d}" for i in range(args.agents)], args.server, 1, config)
    stack.configure({"IDCHAT_ROUTING_CITIZEN_GONE_SECONDS": str(args.citizen_gone_seconds),
                     "IDCHAT_STORE_UNCLAIMED_TTL_SECONDS": str(args.unclaimed_seconds)})
    if args.server == "ejabberd":
        ejabberd_with_muc_admin(stack.xmpp)
        print("NOTE: ejabberd runs the project configuration plus mod_muc_admin, to count rooms",
              file=log)
    if args.server == "prosody":
        print("NOTE: Prosody runs the project configuration plus admin_shell, to count rooms"
              if config else "NOTE: rooms on Prosody cannot be counted (admin_shell could not "
              "be added); the component's lifetime index is reported instead", file=log)
    ok = False
    with stack.running(args.keep_workdir, log):
        wait_quiet(args.quiet_wait, log)
        stack.start(log)
        observer = Observer(stack, config)

        async def go() -> tuple[list[Reading], Reading, Reading, dict[str, Any]]:
            try:
                return await soak(args, stack, observer, log)
            finally:
                await observer.close()

        readings, totals, final, drain = asyncio.run(go())
        text, ok, extra = markdown(args, stack, readings, totals, final, drain)
        print(machine_line(args.server, 1) + "; " + code)
        print()
        print(text, flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps({
                "machine": machine_line(args.server, 1), "code": code, "args": vars(args) | {
                    "json": str(args.json)},
                "readings": [asdict(r) for r in readings], "totals": asdict(totals),
                "final": asdict(final), "drain": drain, **extra}, indent=2, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    run_script(main)
