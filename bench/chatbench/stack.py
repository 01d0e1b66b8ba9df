"""The stack the benchmark starts: a private Redis, the XMPP server (Prosody or ejabberd)
from the project configuration on free loopback ports, the HTTP service and one or more
component processes, each a process of its own, stopped again at the end."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import launcher  # scripts/: on the path through the package (chatbench/__init__.py)
from benchlib import TEST_PRIVKEY, TEST_PUBKEY
from prosody_server import ProsodyServer
from redis_server import RedisServer, free_port, wait_for_port

from . import ROOT
from .clients import read_probe
from .common import AGENT_DOMAIN, AGENT_PASSWORD, established_connections

PROBE = Path(__file__).resolve().parent / "probe"  # sitecustomize.py: stanza and Redis counts


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
        self.http = service("http-service", "xmpp_plugin", env, workdir)
        # One name per instance: "component" alone, or "component 1" ... "component N".
        self.component_names = ["component"] if instances == 1 else \
            [f"component {i + 1}" for i in range(instances)]
        self.components = [service(n.replace(" ", "-"), "component", env, workdir)
                           for n in self.component_names]
        # On Prosody one instance (the lease holder) connects, the others stand by.
        self.expected_connections = instances if server == "ejabberd" else 1

    def configure(self, settings: dict[str, str]) -> None:
        """``IDCHAT_*`` settings for the HTTP service and the component(s), before they
        start (each process took its own copy of the environment when it was made)."""
        self.env.update(settings)
        for proc in (self.http, *self.components):
            proc.env.update(settings)

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

    def start(self, log: Any, services: bool = True) -> None:
        """Redis and the XMPP server with the agent accounts; then (``services``) the HTTP
        service and the component(s). Without them, :meth:`start_services` starts them later
        (the raw-XMPP baseline runs on the XMPP server alone first)."""
        t = time.perf_counter()
        self.redis.start()
        self.xmpp.workdir.mkdir(parents=True, exist_ok=True)
        self.xmpp.start()
        # prosodyctl takes a few hundred ms per account, ejabberdctl a second or two
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: self.xmpp.register(n, AGENT_DOMAIN, AGENT_PASSWORD),
                          self.agent_names))
        print(f"servers up in {time.perf_counter() - t:.1f} s: Redis {self.redis.url}, "
              f"{self.server_label} pid {self.server_pid} (c2s {self.c2s_port}); "
              f"{len(self.agent_names)} agent accounts", file=log)
        if services:
            self.start_services(log)

    def _probe_env(self, proc: launcher.ModuleProcess, stanzas: bool) -> dict[str, str]:
        """The benchmark's probe (bench/chatbench/probe) in a process: its Redis requests
        and (``stanzas``) the stanzas it sends and receives, written on SIGUSR2."""
        return {"PYTHONPATH": str(PROBE), "IDCHAT_BENCH_PROBE_FILE": str(self._probe_file(proc)),
                "IDCHAT_BENCH_PROBE_STANZAS": "1" if stanzas else "0"}

    def _probe_file(self, proc: launcher.ModuleProcess) -> Path:
        return self.workdir / f"{proc.name}.probe.json"

    def start_services(self, log: Any) -> None:
        t = time.perf_counter()
        self.http.start(self._probe_env(self.http, stanzas=False))
        wait_for_port(self.http_port, 30, self.http.proc)
        for component in self.components:
            component.start(self._probe_env(component, stanzas=True))
        self._wait_ready(60)
        connected = self.component_connections()
        print(f"services up in {time.perf_counter() - t:.1f} s: HTTP pid {self.http.pid} on "
              f"{self.base}, component pid(s) {', '.join(str(c.pid) for c in self.components)} "
              f"({connected} connected to {self.server_label})", file=log)

    def probe_counts(self) -> dict[str, dict[str, Any]]:
        """What the probe counted so far in the HTTP service ("http") and in the component
        instances, all together ("component"): {"stanzas": {"in", "out"} (component only),
        "redis": {"requests": {name: n}, "commands": {name: n}}}. A process whose counts
        could not be read leaves its side out."""
        out: dict[str, dict[str, Any]] = {}
        for side, procs in (("http", [self.http]), ("component", self.components)):
            readings = [read_probe(p.pid, self._probe_file(p)) for p in procs]
            if not readings or any(r is None for r in readings):
                continue
            total: dict[str, Any] = {"stanzas": {}, "redis": {"requests": {}, "commands": {}}}
            for r in readings:
                assert r is not None
                add_counts(total["stanzas"], r.get("stanzas") or {})
                for kind in ("requests", "commands"):
                    add_counts(total["redis"][kind], r["redis"][kind])
            out[side] = total
        return out

    def component_connections(self) -> int:
        """Established TCP connections to the XMPP server's component port (server side)."""
        return established_connections(self.component_port)

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
        server_tail: str = self.xmpp.log_tail(15)
        return (self.http.log_tail() + "".join(c.log_tail() for c in self.components)
                + server_tail + "\n")

    @contextlib.contextmanager
    def running(self, keep_workdir: bool, log: Any) -> Iterator[Stack]:
        """Around everything a benchmark does with the stack: on an error, the processes'
        log tails; in the end, every process stopped (also whatever :meth:`stop` could not,
        through scripts/launcher.py) and the work folder removed, or kept and named."""
        try:
            yield self
        except KeyboardInterrupt:
            raise
        except BaseException:
            sys.stderr.write(self.log_tails())
            raise
        finally:
            self.stop()
            launcher.stop_all()  # whatever stop() could not
            if keep_workdir:
                print(f"logs kept in {self.workdir}", file=log)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def stop(self) -> None:
        steps = [c.stop for c in self.components] + [self.http.stop, self.xmpp.stop,
                                                     self.redis.stop]
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - stop the rest regardless
                print(f"while stopping: {type(exc).__name__}: {exc}", file=sys.stderr)




def add_counts(total: dict[str, int], counts: dict[str, int]) -> None:
    for k, v in counts.items():
        total[k] = total.get(k, 0) + v


def service(name: str, module: str, env: dict[str, str], workdir: Path) -> launcher.ModuleProcess:
    """``python -m <module>`` with its log in workdir; in a session of its own: Ctrl-C
    reaches the benchmark, which stops the processes in order."""
    return launcher.ModuleProcess(name, module, env, workdir / f"{name}.log", ROOT,
                                  own_session=True)
