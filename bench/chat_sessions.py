#!/usr/bin/env python3
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
import base64
import json
import logging
import math
import os
import re
import resource
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
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
from prosody_server import ProsodyServer  # noqa: E402
from redis_server import RedisServer, free_port, wait_for_port  # noqa: E402

PURPOSE = "report_move"
AGENT_PASSWORD = "bench-only-" + secrets.token_hex(8)
AGENT_DOMAIN = "agents.idchat.localhost"
GUEST_DOMAIN = "guest.idchat.localhost"
MUC_DOMAIN = "rooms.idchat.localhost"
COMPONENT_DOMAIN = "component.idchat.localhost"
CITIZEN_NICK = "Inwoner"  # component/chats.py CITIZEN_NICK
try:  # the most max-chats the component accepts in an agent's presence
    from component.handlers.agent import MAX_CHATS_LIMIT
except (ImportError, AttributeError):  # pragma: no cover - older or reorganised component
    MAX_CHATS_LIMIT = 20
STEP_TIMEOUT = 15.0       # any single wait of a session
RATE_CAP = 150            # sessions/s assumed at most, for the default number of tokens
CONFIG_RE = re.compile(
    r'<script type="application/json" id="idchat-config">(.*?)</script>', re.S)

# --------------------------------------------------------------------------- tokens


# --------------------------------------------------------------------------- /proc


def reference_ms() -> float:
    """A fixed single-threaded Python loop, best of three, in ms: how fast a CPU is right now.
    On a shared virtual machine the same work can take a third longer at times while no other
    process on this machine is busy (neighbours on the host); this makes that visible."""
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        x = 0
        for i in range(500_000):
            x += i * i % 7
        best = min(best, time.perf_counter() - t)
    return 1000 * best


def rss_kib(pid: int, name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def redis_commandstats(port: int) -> dict[str, int]:
    """Calls per command since Redis started (INFO commandstats), over a raw socket."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"INFO commandstats\r\n")
        buf = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            head, _, rest = buf.partition(b"\r\n")
            if head.startswith(b"$") and len(rest) >= int(head[1:]):
                break
    out = {}
    for line in buf.decode().splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def median(values: list[float]) -> float:
    return percentile(sorted(values), 50)


# --------------------------------------------------------------------------- the stack

class PyService:
    """``python -m <module>`` as a child process with its own log file."""

    def __init__(self, name: str, module: str, env: dict[str, str], workdir: Path) -> None:
        self.name, self.module, self.env = name, module, env
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            # A session of its own: Ctrl-C reaches the benchmark, which stops us in order.
            self.proc = launcher.popen([sys.executable, "-m", self.module], own_session=True,
                                       cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        if not text:
            return ""
        return "\n".join([f"--- {self.name} log (tail) ---", *text[-lines:], ""])

    def stop(self) -> None:
        launcher.stop_process(self.proc, timeout=10)  # SIGTERM, SIGKILL after 10 s
        self.proc = None


class Stack:
    """Redis, the XMPP server (Prosody or ejabberd), the HTTP service and ``instances``
    component processes, each its own process."""

    def __init__(self, workdir: Path, agent_names: list[str], server: str = "prosody",
                 instances: int = 1, prosody_config: Path | None = None) -> None:
        self.workdir = workdir
        self.agent_names = agent_names
        self.server_kind = server
        self.server_label = "Prosody" if server == "prosody" else "ejabberd"
        self.redis = RedisServer(workdir / "redis")
        self.http_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.metrics_port = free_port()
        self.xmpp_env = {
            "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
            "IDCHAT_XMPP_C2S_PORT": str(free_port()),
            "IDCHAT_XMPP_COMPONENT_PORT": str(free_port()),
            "IDCHAT_XMPP_HTTP_PORT": str(free_port()),
            "IDCHAT_HTTP_EXTERNAL_URL": self.base,
            # Hundreds of guests from 127.0.0.1; the other limits stay at production values.
            "IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS": "100000",
        }
        self.component_port = int(self.xmpp_env["IDCHAT_XMPP_COMPONENT_PORT"])
        self._server_pid: int | None = None
        if server == "prosody":
            self.xmpp: Any = ProsodyServer(workdir / "prosody", self.xmpp_env)
            if prosody_config is not None:  # an experiment: another configuration file
                self.xmpp.config_path = prosody_config.resolve()
        else:
            from ejabberd_server import EjabberdServer
            # The node runs as the `ejabberd` user: it must be able to pass through workdir
            # (search only, no listing; ejabberd_server makes its own folders 0700).
            os.chmod(workdir, 0o711)
            self.xmpp = EjabberdServer(workdir / "ejabberd", self.xmpp_env)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDCHAT_")}
        env.update(self.xmpp_env)
        env.update({
            "IDCHAT_HTTP_HOST": "127.0.0.1",
            "IDCHAT_HTTP_PORT": str(self.http_port),
            "IDCHAT_HTTP_INTERNAL_URL": self.base,
            "IDCHAT_REDIS_URL": self.redis.url,
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
            "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
            "IDCHAT_DEMO_ENABLED": "true",  # the published test keys: benchmarks only
            "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
            "IDCHAT_XMPP_WEBSOCKET_URL":
                f"ws://127.0.0.1:{self.xmpp_env['IDCHAT_XMPP_HTTP_PORT']}/xmpp-websocket",
            "IDCHAT_XMPP_SERVER": server,
            "IDCHAT_LOG_LEVEL": "WARNING",
            "IDCHAT_LOG_AUDIT_FILE": str(workdir / "audit.log"),
            # The component's own /metrics listener, on in every run (scraped or not): an
            # idle listener is part of a production deployment.
            "IDCHAT_METRICS_COMPONENT_PORT": str(self.metrics_port),
        })
        self.env = env
        self.http = PyService("http-service", "xmpp_plugin", env, workdir)
        # One name per instance: "component" alone, or "component 1" ... "component N".
        self.component_names = ["component"] if instances == 1 else \
            [f"component {i + 1}" for i in range(instances)]
        self.components = [PyService(n.replace(" ", "-"), "component", env, workdir)
                           for n in self.component_names]
        # On Prosody one instance (the lease holder) connects, the others stand by.
        self.expected_connections = instances if server == "ejabberd" else 1

    @property
    def metrics_urls(self) -> dict[str, str]:
        """What Prometheus scrapes: the HTTP service's and the component's /metrics."""
        return {"http": f"{self.base}/metrics",
                "component": f"http://127.0.0.1:{self.metrics_port}/metrics"}

    @property
    def c2s_port(self) -> int:
        return int(self.xmpp_env["IDCHAT_XMPP_C2S_PORT"])

    @property
    def server_pid(self) -> int:
        """Prosody's process, or ejabberd's Erlang VM (beam.smp: all its threads)."""
        if self._server_pid is None:
            pid = self.xmpp.pid if self.server_kind == "prosody" else self.xmpp._find_beam()
            if pid is None:
                raise RuntimeError(f"{self.server_label}: no process found")
            self._server_pid = pid
        return self._server_pid

    def pids(self) -> dict[str, int]:
        """"xmpp" is the XMPP server; one entry per component instance."""
        assert self.redis.proc is not None
        return {"xmpp": self.server_pid, "redis": self.redis.proc.pid, "http": self.http.pid,
                **{n: c.pid for n, c in zip(self.component_names, self.components)}}

    def start(self, log: Any) -> None:
        t = time.perf_counter()
        self.redis.start()
        self.xmpp.workdir.mkdir(parents=True, exist_ok=True)
        self.xmpp.start()
        # prosodyctl takes a few hundred ms per account, ejabberdctl a second or two
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: self.xmpp.register(n, AGENT_DOMAIN, AGENT_PASSWORD),
                          self.agent_names))
        self.http.start()
        wait_for_port(self.http_port, 30, self.http.proc)
        for component in self.components:
            component.start()
        self._wait_ready(60)
        connected = self.component_connections()
        print(f"stack up in {time.perf_counter() - t:.1f} s: Redis {self.redis.url}, "
              f"{self.server_label} pid {self.server_pid} (c2s {self.c2s_port}), HTTP pid "
              f"{self.http.pid} on {self.base}, component pid(s) "
              f"{', '.join(str(c.pid) for c in self.components)} ({connected} connected to "
              f"{self.server_label}); {len(self.agent_names)} agent accounts", file=log)

    def component_connections(self) -> int:
        """Established TCP connections to the XMPP server's component port (server side)."""
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                parts = line.split()
                if len(parts) > 3 and parts[3] == "01" \
                        and int(parts[1].rsplit(":", 1)[1], 16) == self.component_port:
                    count += 1
        return count

    def _wait_ready(self, timeout: float) -> None:
        """/readyz is 200 when Redis answers and a component reports itself alive; then wait
        until every instance that should be connected (all on ejabberd, one on Prosody) is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as resp:
                    if resp.status == 200 \
                            and self.component_connections() >= self.expected_connections:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"the component did not become ready (GET /readyz, "
                           f"{self.expected_connections} connection(s)) in time")

    def check_alive(self) -> None:
        checks = [("Redis", self.redis.is_running(), True),
                  (self.server_label, self.xmpp.is_running(), True),
                  ("the HTTP service", self.http.alive(), self.http.proc is not None)]
        checks += [(f"the {n}", c.alive(), c.proc is not None)
                   for n, c in zip(self.component_names, self.components)]
        for name, ok, started in checks:
            if started and not ok:
                raise RuntimeError(f"{name} is not running")

    def log_tails(self) -> str:
        return (self.http.log_tail() + "".join(c.log_tail() for c in self.components)
                + self.xmpp.log_tail(15) + "\n")

    def stop(self) -> None:
        steps = [c.stop for c in self.components] + [self.http.stop, self.xmpp.stop,
                                                     self.redis.stop]
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - stop the rest regardless
                print(f"while stopping: {type(exc).__name__}: {exc}", file=sys.stderr)


# --------------------------------------------------------------------------- XMPP clients

# Adapted from tests/integration/xmpp_clients.py. Loopback only, test settings: no STARTTLS,
# SASL PLAIN without TLS. One shared SSL context: slixmpp otherwise builds a default context
# with the system CA store for every client (~45 ms of CPU each), never used here.
_SSL = ssl.create_default_context()
_stanzas_registered = False


def _register_stanzas() -> None:
    global _stanzas_registered
    if not _stanzas_registered:
        from component.protocol import stanza
        stanza.register()
        _stanzas_registered = True


def make_client(jid: str, password: str, **kwargs: Any) -> Any:
    from slixmpp import ClientXMPP
    _register_stanzas()
    xmpp = ClientXMPP(jid, password, ssl_context=_SSL, **kwargs)
    xmpp.enable_starttls = False
    xmpp.enable_direct_tls = False
    xmpp.enable_plaintext = True
    xmpp.whitespace_keepalive = False
    xmpp.plugin["feature_mechanisms"].unencrypted_plain = True
    for plugin in ("xep_0030", "xep_0004", "xep_0045"):
        xmpp.register_plugin(plugin)
    return xmpp


async def start_session(xmpp: Any, port: int, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[str | None] = loop.create_future()

    def finish(reason: str | None) -> None:
        if not outcome.done():
            outcome.set_result(reason)

    handlers: dict[str, Any] = {
        "session_start": lambda _e: finish(None),
        "stream_error": lambda e: finish(f"stream error {e['condition']}"),
        "failed_all_auth": lambda _e: finish("authentication failed"),
        "connection_failed": lambda e: finish(f"connection failed: {e}"),
        "disconnected": lambda e: finish(f"disconnected: {e}"),
    }
    for name, handler in handlers.items():
        xmpp.add_event_handler(name, handler)
    try:
        xmpp.connect("127.0.0.1", port)
        try:
            reason = await asyncio.wait_for(outcome, timeout)
        except asyncio.TimeoutError:
            reason = "no session in time"
    finally:
        for name, handler in handlers.items():
            xmpp.del_event_handler(name, handler)
    if reason is not None:
        await close_client(xmpp, wait=0)
        raise StepError("xmpp-connect", reason)


async def close_client(xmpp: Any, wait: float = 1.0) -> None:
    xmpp.cancel_connection_attempt()
    try:
        await xmpp.disconnect(wait=wait)
    except Exception:  # noqa: BLE001 - best effort
        pass
    finally:
        xmpp.abort()
        # slixmpp keeps its send-queue task running after the stream ended: stop it, or
        # thousands of them linger (and are reported as destroyed while pending at exit).
        task = getattr(xmpp, "_run_out_filters", None)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def join_room(xmpp: Any, room: str, nick: str, timeout: float = STEP_TIMEOUT) -> None:
    """Join and wait for our own presence; any presence error from the room ends the wait
    (Prosody's refusals carry no muc#user payload, so slixmpp alone would only time out)."""
    from slixmpp import JID
    rjid = JID(room)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_error(pres: Any) -> None:
        if pres["from"].bare == rjid.bare and not refused.done():
            refused.set_result(pres["error"]["condition"])

    xmpp.add_event_handler("presence_error", on_error)
    join = asyncio.ensure_future(xmpp.plugin["xep_0045"].join_muc_wait(
        rjid, nick, maxstanzas=0, timeout=timeout))
    try:
        await asyncio.wait({join, refused}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if refused.done():
            raise StepError("join", f"refused: {refused.result()}")
        if not join.done():
            raise StepError("join", "timeout")
        join.result()
    finally:
        xmpp.del_event_handler("presence_error", on_error)
        if not join.done():
            join.cancel()
            await asyncio.gather(join, return_exceptions=True)


class StepError(Exception):
    def __init__(self, step: str, detail: str = "") -> None:
        super().__init__(f"{step}: {detail}" if detail else step)
        self.step = step


class Inbox:
    """Room messages by body: a waiter may come before or after its message."""

    def __init__(self) -> None:
        self._slots: dict[str, asyncio.Future[float]] = {}

    def _slot(self, key: str) -> asyncio.Future[float]:
        fut = self._slots.get(key)
        if fut is None:
            fut = self._slots[key] = asyncio.get_running_loop().create_future()
        return fut

    def arrived(self, key: str) -> None:
        fut = self._slot(key)
        if not fut.done():
            fut.set_result(time.perf_counter())

    async def wait(self, key: str, step: str) -> float:
        fut = self._slot(key)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError(step, "timeout") from None
        finally:
            self._slots.pop(key, None)


# --------------------------------------------------------------------------- actors

@dataclass
class ChatRec:
    """What both sides of one chat record (perf_counter seconds)."""
    t_offer: float = math.nan
    t_attrs: float = math.nan
    t_accepted: float = math.nan
    t_agent_joined: float = math.nan
    attr_fields: int = 0
    ready: asyncio.Future[None] | None = None  # agent accepted, has attributes, is in the room
    agent: "AgentActor | None" = None

    def ready_future(self) -> asyncio.Future[None]:
        if self.ready is None:
            self.ready = asyncio.get_running_loop().create_future()
        return self.ready


class Hub:
    """Shared by the agents and citizens of this process: per-chat records, counters."""

    def __init__(self, hold: bool = False) -> None:
        self.chats: dict[str, ChatRec] = {}
        self.hold = hold  # memory mode: agents accept and join, then keep the chat open
        self.agent_errors: dict[str, int] = {}

    def rec(self, cid: str) -> ChatRec:
        rec = self.chats.get(cid)
        if rec is None:
            rec = self.chats[cid] = ChatRec()
        return rec

    def agent_error(self, kind: str) -> None:
        self.agent_errors[kind] = self.agent_errors.get(kind, 0) + 1


class AgentActor:
    """An agent who accepts every offer at once, then (load mode) talks and ends the chat."""

    def __init__(self, hub: Hub, xmpp: Any, nick: str) -> None:
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        self.hub, self.xmpp, self.nick = hub, xmpp, nick
        self.inbox = Inbox()
        self.citizen_in: dict[str, asyncio.Event] = {}
        self.confirmed = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.open_chats: set[str] = set()
        xmpp.register_handler(Callback("bench headline", StanzaPath("message@type=headline"),
                                       self._on_headline))
        xmpp.add_event_handler("groupchat_message", self._on_groupchat)
        xmpp.add_event_handler("groupchat_presence", self._on_room_presence)
        xmpp.add_event_handler("presence", self._on_presence)

    def _on_presence(self, pres: Any) -> None:
        if pres["from"].bare == COMPONENT_DOMAIN and pres["idchat_agent"]["available"] == "true":
            self.confirmed.set()

    def _on_headline(self, msg: Any) -> None:
        now = time.perf_counter()
        xml = msg.xml
        from component.protocol.stanza import NS
        if xml.find(f"{{{NS}}}offer") is not None:
            offer = msg["idchat_offer"]
            task = asyncio.ensure_future(self._take(offer["id"], offer["chat"], now))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif xml.find(f"{{{NS}}}attributes") is not None:
            el = msg["idchat_attributes"]
            rec = self.hub.rec(el["chat"])
            rec.t_attrs = now
            rec.attr_fields = len(el["form"].get_fields())
        elif xml.find(f"{{{NS}}}ended") is not None:
            cid = msg["idchat_ended"]["chat"]
            self.open_chats.discard(cid)
            self.citizen_in.pop(cid, None)
        elif xml.find(f"{{{NS}}}revoke") is not None:
            self.hub.agent_error("offer revoked")

    def _on_groupchat(self, msg: Any) -> None:
        if msg["from"].resource == CITIZEN_NICK:
            self.inbox.arrived(msg["body"])

    def _on_room_presence(self, pres: Any) -> None:
        if pres["from"].resource == CITIZEN_NICK and pres["type"] != "unavailable":
            cid = pres["from"].user
            ev = self.citizen_in.get(cid)
            if ev is None:
                ev = self.citizen_in[cid] = asyncio.Event()
            ev.set()

    async def available(self, max_chats: int) -> None:
        pres = self.xmpp.make_presence(pto=COMPONENT_DOMAIN)
        pres["idchat_agent"]["max-chats"] = str(max_chats)
        pres.send()
        try:
            await asyncio.wait_for(self.confirmed.wait(), 10)
        except asyncio.TimeoutError:
            raise RuntimeError(f"agent {self.nick}: the component did not confirm availability") \
                from None

    async def iq(self, kind: str, ptype: str = "set", **attrs: str) -> Any:
        iq = self.xmpp.make_iq(ito=COMPONENT_DOMAIN, itype=ptype)
        el = iq[kind]
        for k, v in attrs.items():
            el[k] = v
        return await iq.send(timeout=STEP_TIMEOUT)

    async def _take(self, oid: str, cid: str, t_offer: float) -> None:
        rec = self.hub.rec(cid)
        rec.t_offer = t_offer
        rec.agent = self
        try:
            accepted = (await self.iq("idchat_accept", offer=oid))["idchat_accepted"]
            rec.t_accepted = time.perf_counter()
            self.open_chats.add(cid)
            await join_room(self.xmpp, accepted["room"], self.nick)
            rec.t_agent_joined = time.perf_counter()
            ev = self.citizen_in.get(cid)
            if ev is None:
                ev = self.citizen_in[cid] = asyncio.Event()
            try:
                await asyncio.wait_for(ev.wait(), STEP_TIMEOUT)
            except asyncio.TimeoutError:
                raise StepError("agent: citizen in room", "timeout") from None
            if math.isnan(rec.t_attrs):  # sent before the accept result: should be here
                raise StepError("agent: attributes", "missing")
            fut = rec.ready_future()
            if not fut.done():
                fut.set_result(None)
            if self.hub.hold:
                return
            room = accepted["room"]
            self.say(room, f"a1 {cid}")
            await self.inbox.wait(f"c1 {cid}", "agent: c1")
            self.say(room, f"a2 {cid}")
            await self.inbox.wait(f"c2 {cid}", "agent: c2")
            await self.iq("idchat_end", chat=cid)
        except StepError as exc:
            self.hub.agent_error(exc.step)
            self._fail(rec, exc)
        except Exception as exc:  # noqa: BLE001 - IqError, IqTimeout, ...
            kind = f"agent: {type(exc).__name__}"
            if hasattr(exc, "iq"):
                kind += f" {exc.iq['error']['condition']}"
            self.hub.agent_error(kind)
            self._fail(rec, exc)

    @staticmethod
    def _fail(rec: ChatRec, exc: BaseException) -> None:
        fut = rec.ready_future()
        if not fut.done():
            fut.set_exception(StepError("agent", str(exc)))
            fut.exception()  # retrieved: no "never retrieved" warning when nobody waits

    def say(self, room: str, text: str) -> None:
        from slixmpp import JID
        self.xmpp.send_message(mto=JID(room), mbody=text, mtype="groupchat")

    async def end_chat(self, cid: str) -> None:
        await self.iq("idchat_end", chat=cid)


@dataclass
class SessionTimes:
    t0: float
    start: float
    page: float
    connect: float
    claim: float
    joined: float
    offer: float
    attrs: float
    done: float


class Citizen:
    """One browser: the two HTTP requests, then an anonymous guest through the chat."""

    def __init__(self, hub: Hub, http: Any, base: str, c2s_port: int) -> None:
        self.hub, self.http, self.base, self.port = hub, http, base, c2s_port
        self.xmpp: Any = None
        self.cid = ""
        self.ended: asyncio.Future[float] | None = None
        self.inbox = Inbox()

    async def _start_and_page(self, token: str) -> tuple[float, float, str]:
        import aiohttp
        body = json.dumps({"purpose": PURPOSE, "auth_result": token}).encode()
        try:
            async with self.http.post(f"{self.base}/start_communication", data=body,
                                      headers={"Content-Type": "application/json"}) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    raise StepError("start_communication", str(resp.status))
            t_start = time.perf_counter()
            client_url = json.loads(raw)["client_url"]
            if not client_url.startswith(self.base + "/"):  # only our loopback service
                raise StepError("start_communication", f"unexpected client_url {client_url!r}")
            async with self.http.get(client_url, headers={"Accept": "text/html"}) as resp:
                page = await resp.text()
                if resp.status != 200:
                    raise StepError("client_url", str(resp.status))
                cookies = resp.headers.getall("Set-Cookie", [])
        except aiohttp.ClientError as exc:
            raise StepError("http", type(exc).__name__) from None
        t_page = time.perf_counter()
        match = CONFIG_RE.search(page)
        if match is None:
            raise StepError("client_url", "no idchat-config")
        ticket = json.loads(match.group(1))["ticket"]
        if not any(c.startswith("idchat_browser=") for c in cookies):
            raise StepError("client_url", "no browser cookie")
        return t_start, t_page, ticket

    async def open(self, token: str) -> tuple[float, float, float, float, float, float]:
        """Up to and including joining the room; returns the timestamps so far."""
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import StanzaPath
        t0 = time.perf_counter()
        t_start, t_page, ticket = await self._start_and_page(token)
        xmpp = self.xmpp = make_client(GUEST_DOMAIN, "", sasl_mech="ANONYMOUS")
        self.ended = asyncio.get_running_loop().create_future()
        xmpp.register_handler(Callback("bench status", StanzaPath("message@type=headline"),
                                       self._on_headline))
        xmpp.add_event_handler("groupchat_message", self._on_groupchat)
        await start_session(xmpp, self.port)
        t_conn = time.perf_counter()
        iq = xmpp.make_iq(ito=COMPONENT_DOMAIN, itype="set")
        iq["idchat_claim"]["ticket"] = ticket
        try:
            claimed = (await iq.send(timeout=STEP_TIMEOUT))["idchat_claimed"]
        except Exception as exc:  # noqa: BLE001
            cond = exc.iq["error"]["condition"] if hasattr(exc, "iq") else ""
            raise StepError("claim", f"{type(exc).__name__} {cond}".strip()) from None
        t_claim = time.perf_counter()
        self.cid = claimed["room"].split("@", 1)[0]
        await join_room(xmpp, claimed["room"], claimed["nick"])
        return t0, t_start, t_page, t_conn, t_claim, time.perf_counter()

    def _on_headline(self, msg: Any) -> None:
        st = msg["idchat_status"]
        if st["state"] == "ended" and self.ended is not None and not self.ended.done():
            self.ended.set_result(time.perf_counter())

    def _on_groupchat(self, msg: Any) -> None:
        nick = msg["from"].resource
        if nick and nick != CITIZEN_NICK and msg["body"]:
            self.inbox.arrived(msg["body"])

    async def wait_ready(self) -> ChatRec:
        rec = self.hub.rec(self.cid)
        try:
            await asyncio.wait_for(asyncio.shield(rec.ready_future()), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError("agent ready", "timeout") from None
        return rec

    async def run(self, token: str) -> SessionTimes:
        from slixmpp import JID
        t0, t_start, t_page, t_conn, t_claim, t_joined = await self.open(token)
        cid, room = self.cid, JID(f"{self.cid}@{MUC_DOMAIN}")
        await self.inbox.wait(f"a1 {cid}", "citizen: a1")
        self.xmpp.send_message(mto=room, mbody=f"c1 {cid}", mtype="groupchat")
        await self.inbox.wait(f"a2 {cid}", "citizen: a2")
        self.xmpp.send_message(mto=room, mbody=f"c2 {cid}", mtype="groupchat")
        assert self.ended is not None
        try:
            t_done = await asyncio.wait_for(asyncio.shield(self.ended), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError("citizen: ended", "timeout") from None
        rec = self.hub.chats.pop(cid, None)
        if rec is None or math.isnan(rec.t_attrs):
            raise StepError("attributes", "never reached the agent")
        return SessionTimes(t0, t_start, t_page, t_conn, t_claim, t_joined, rec.t_offer,
                            rec.t_attrs, t_done)

    async def abandon(self) -> None:
        """After an error: end the chat as the citizen (best effort), then log out."""
        if self.xmpp is None:
            return
        if self.cid and self.ended is not None and not self.ended.done():
            try:
                iq = self.xmpp.make_iq(ito=COMPONENT_DOMAIN, itype="set")
                iq["idchat_end"]
                await iq.send(timeout=3)
            except Exception:  # noqa: BLE001
                pass
        self.hub.chats.pop(self.cid, None)
        await self.close()

    async def close(self) -> None:
        if self.xmpp is not None:
            await close_client(self.xmpp)
            self.xmpp = None


async def connect_agents(hub: Hub, names: list[str], port: int, max_chats: int) -> list[AgentActor]:
    async def one(name: str) -> AgentActor:
        xmpp = make_client(f"{name}@{AGENT_DOMAIN}", AGENT_PASSWORD)
        agent = AgentActor(hub, xmpp, name.capitalize())
        await start_session(xmpp, port)
        await agent.available(max_chats)
        return agent
    agents = []
    for i in range(0, len(names), 10):  # a few at a time: the login is the expensive part
        agents.extend(await asyncio.gather(*(one(n) for n in names[i:i + 10])))
    return agents


async def close_agents(agents: list[AgentActor]) -> None:
    for agent in agents:
        for task in list(agent.tasks):
            task.cancel()
    await asyncio.gather(*(t for a in agents for t in a.tasks), return_exceptions=True)
    await asyncio.gather(*(close_client(a.xmpp) for a in agents), return_exceptions=True)


def http_session(limit: int) -> Any:
    import aiohttp
    # Every citizen is another browser: no shared cookie jar (the cookie is checked by hand).
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 cookie_jar=aiohttp.DummyCookieJar(),
                                 timeout=aiohttp.ClientTimeout(total=STEP_TIMEOUT))


# --------------------------------------------------------------------------- load runs

@dataclass
class RunResult:
    concurrency: int
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
    tokens_exhausted: bool = False
    ref_ms_before: float = math.nan  # reference_ms() just before and after the run
    ref_ms_after: float = math.nan
    # --scrape: both /metrics fetched every scrape_s seconds during warm-up and window
    scrape_s: float = 0.0
    scrapes: dict[str, int] = field(default_factory=dict)  # per target, in the window
    scrape_errors: int = 0
    scrape_p50_ms: dict[str, float] = field(default_factory=dict)
    scrape_kib: dict[str, float] = field(default_factory=dict)  # size of the last answer


STEPS = ("start_communication", "client_url page", "guest login", "claim", "join room",
         "joined -> offer", "offer -> attributes", "attributes -> ended")


async def run_load(stack: Stack, tokens: list[str], concurrency: int, agent_names: list[str],
                   max_chats: int, warmup: float, duration: float, py_spy: Path | None,
                   log: Any, scrape: float = 0.0) -> RunResult:
    hub = Hub()
    result = RunResult(concurrency=concurrency, server=stack.server_kind,
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

    async with http_session(concurrency + 2) as http:
        workers = [asyncio.ensure_future(worker(http)) for _ in range(concurrency)]
        scraping = asyncio.ensure_future(scraper()) if scrape > 0 else None
        try:
            await asyncio.sleep(warmup)
            pids = stack.pids()
            cpu0 = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
            cpu0["load generator"] = time.process_time()
            busy0 = machine_busy_seconds()
            cmd0 = redis_commandstats(stack.redis.port)
            window["start"] = time.perf_counter()
            if py_spy is not None:
                spy = launcher.popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                     str(stack.components[0].pid), "--duration", str(max(1, int(duration))),
                     "--rate", "200", "--nonblocking", "--format", "raw", "--output", str(py_spy)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = window["start"] + duration
            while time.perf_counter() < deadline:
                if not tokens:
                    result.tokens_exhausted = True
                    break
                if all(w.done() for w in workers):
                    break
                stack.check_alive()
                await asyncio.sleep(min(0.1, max(0.0, deadline - time.perf_counter())))
            window["stopping"] = True
            await asyncio.wait_for(asyncio.gather(*workers), STEP_TIMEOUT * 6)
            await asyncio.gather(*list(logouts), return_exceptions=True)
            end = window["last_end"] if times else time.perf_counter()
            cpu1 = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
            cpu1["load generator"] = time.process_time()
            busy1 = machine_busy_seconds()
            cmd1 = redis_commandstats(stack.redis.port)
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
    if elapsed > 0:
        total = 0.0
        for name in cpu0:
            used = cpu1[name] - cpu0[name]
            total += used
            result.cpu_pct[name] = 100 * used / elapsed
            result.cpu_s_per_session[name] = used / len(times) if times else math.nan
        result.cpu_pct["other"] = max(0.0, 100 * ((busy1 - busy0) - total) / elapsed)
        if len(stack.components) > 1:  # all instances together
            used = sum(cpu1[n] - cpu0[n] for n in stack.component_names)
            result.cpu_pct["components"] = 100 * used / elapsed
            result.cpu_s_per_session["components"] = used / len(times) if times else math.nan
    if times:
        # Both the HTTP service and the component; sessions in flight at the window's edges
        # make this approximate (closed loop: the same number start and end).
        calls = {k: (v - cmd0.get(k, 0)) / len(times) for k, v in cmd1.items()}
        calls.pop("info", None)
        result.redis_calls_per_session = {k: round(v, 2) for k, v in
                                          sorted(calls.items(), key=lambda kv: -kv[1]) if v > 0}
    return result


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


# --------------------------------------------------------------------------- report

AIMS = {"setup_p50_ms_at_1": 20.0, "setup_p99_ms_at_20": 250.0, "sessions_per_s_at_20": 60.0}


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
        out += ["", "Redis commands per session (HTTP service and component together):", ""]
        for r in results:
            total = sum(r.redis_calls_per_session.values())
            top = ", ".join(f"{k} {v:.1f}" for k, v in list(r.redis_calls_per_session.items())[:12])
            out.append(f"- {r.concurrency} citizens: {total:.1f} in all ({top})")
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


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", choices=("prosody", "ejabberd"), default="prosody",
                   help="the XMPP server, started from the project's own configuration "
                        "(prosody/prosody.cfg.lua or ejabberd/ejabberd.yml; default prosody)")
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
    p.add_argument("--json", metavar="FILE", type=Path,
                   help="also write the results as JSON to FILE ('-': JSON only, on stdout)")
    p.add_argument("--py-spy", metavar="FILE", type=Path,
                   help="sample the component (the first instance) with py-spy during the last "
                        "load run")
    p.add_argument("--quiet-wait", type=float, default=30.0, metavar="SECONDS",
                   help="before each run, wait at most this long for other processes to use "
                        "under 15 %% of a CPU (default 30; 0 = do not wait)")
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
    p.add_argument("--keep-workdir", action="store_true",
                   help="keep the temporary folder with the logs (printed at the end)")
    args = p.parse_args(argv)
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
    runs = len(args.concurrency) * len(args.scrape) * args.rounds
    if args.sessions is None:
        args.sessions = (math.ceil((args.warmup + args.duration) * RATE_CAP) * runs
                         + args.chats_for_memory + 200)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGINT, SIGTERM, SIGHUP: the first stops the benchmark, later ones cannot cut its
    # cleanup short (scripts/launcher.py).
    launcher.install_stop_handlers()
    log = sys.stderr
    # slixmpp logs a traceback when a client's queued stanza meets a closed stream at logout;
    # failures that matter are counted by the benchmark itself.
    logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * args.chats_for_memory + 500
    if soft < need:  # clients here, connections in Prosody (a child: inherits the limit)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    mem_agents = math.ceil(args.chats_for_memory / args.max_chats) if args.chats_for_memory else 0
    names = [f"agent{i:03d}" for i in range(max(args.agents, mem_agents, 2))]
    planned = len(args.concurrency) * len(args.scrape) * args.rounds * (args.warmup + args.duration)
    t = time.perf_counter()
    tokens = mint_tokens(args.sessions, lifetime=int(900 + planned + args.chats_for_memory / 5),
                         processes=args.mint_processes)
    print(f"minted {len(tokens)} tokens in {time.perf_counter() - t:.1f} s", file=log)

    results: list[RunResult] = []
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
    try:
        stack.start(log)

        async def runs() -> None:
            nonlocal memory
            loop = asyncio.get_running_loop()

            async def quiet() -> None:
                if args.quiet_wait > 0:
                    other = await loop.run_in_executor(None, wait_for_quiet, args.quiet_wait,
                                                       15.0, log)
                    print(f"other processes: {other:.0f} % of a CPU", file=log)
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
    except KeyboardInterrupt:
        raise
    except BaseException:
        sys.stderr.write(stack.log_tails())
        raise
    finally:
        stack.stop()
        launcher.stop_all()  # whatever stack.stop() could not
        if args.keep_workdir:
            print(f"logs kept in {tmp}", file=log)
        else:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)

    table = markdown(results, memory, stack.server_label, stack.component_names)
    if per_scrape:
        every = min(x for x in args.scrape if x)
        both = per_scrape["http"] + per_scrape["component"]
        table += ("\n\nOne scrape, after the load runs (30 of each, 1.05 s apart, less the idle CPU "
                  "of as long without scrapes): HTTP service "
                  f"{per_scrape['http']:.2f} ms of CPU, component {per_scrape['component']:.2f} ms; "
                  f"every {every:g} s that is {100 * both / 1000 / every:.3f} % of one CPU.")
    machine = machine_line(args.server, args.instances) + "; " + code
    payload = {"machine": machine, "server": args.server, "instances": args.instances,
               "results": [asdict(r) for r in results],
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


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything this benchmark started was stopped", file=sys.stderr)
        sys.exit(130)
