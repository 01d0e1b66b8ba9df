"""Stopping is as reliable as starting: `make demo` (and scripts/demo.py) stopped by signals
to its process group, as a supervisor or `timeout` sends them, leaves no process of the demo
and no port behind, also when a second signal arrives during its cleanup (make forwards a
SIGTERM the whole group got already) and for the servers that run in sessions of their own
(Prosody; ejabberd's node behind `su`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from ejabberd_server import EjabberdServer
from launcher import pid_alive
from redis_server import free_port

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # [state, ppid, ...]; starttime is [19]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> dict[int, str]:
    """Every process under ``root`` (by parent pid, across sessions): pid -> start time."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if pid not in found and (fields := _stat(pid)) is not None:
                found[pid] = fields[19]
                todo.append(pid)
    return found


def still_running(pids: dict[int, str]) -> dict[int, str]:
    """Those of ``pids`` that still run (the same process: same start time; no zombie)."""
    out = {}
    for pid, started in pids.items():
        fields = _stat(pid)
        if fields is not None and fields[19] == started and pid_alive(pid):
            out[pid] = _cmdline(pid)
    return out


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    out: Path
    ports: dict[str, int]
    pids: dict[int, str]  # pid -> start time
    commands: str = ""  # their command lines, read while the demo ran

    def output(self) -> str:
        return self.out.read_text(errors="replace")


def start_demo(server: str, via_make: bool, run_dir: Path) -> Demo:
    ports = {"http": free_port(), "redis": free_port(), "c2s": free_port(),
             "component": free_port(), "xmpp http": free_port()}
    base = f"http://127.0.0.1:{ports['http']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDCHAT_")}
    env.update({"IDCHAT_HTTP_PORT": str(ports["http"]), "IDCHAT_HTTP_EXTERNAL_URL": base,
                "IDCHAT_HTTP_INTERNAL_URL": base,
                "IDCHAT_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
                "IDCHAT_XMPP_C2S_PORT": str(ports["c2s"]),
                "IDCHAT_XMPP_COMPONENT_PORT": str(ports["component"]),
                "IDCHAT_XMPP_HTTP_PORT": str(ports["xmpp http"])})
    if via_make:
        cmd = ["make", "-s", "demo", f"SERVER={server}", f"DEMO_ARGS=--run-dir {run_dir}"]
    else:
        cmd = [sys.executable, "scripts/demo.py", "--server", server, "--run-dir", str(run_dir)]
    out = run_dir / "demo.out"
    with out.open("wb") as sink:  # its own process group: the signals go to that group
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    return Demo(proc, out, ports, {})


def wait_ready(demo: Demo) -> None:
    """Until /readyz answers 200; then note every process of the demo."""
    proc, base = demo.proc, f"http://127.0.0.1:{demo.ports['http']}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the demo exited with {proc.returncode}:\n{demo.output()}"
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    else:
        raise AssertionError(f"the demo was not ready in time:\n{demo.output()}")
    demo.pids = descendants(proc.pid)
    demo.commands = " | ".join(_cmdline(pid) for pid in demo.pids)


def wait_for_output(demo: Demo, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in demo.output():
        assert time.monotonic() < deadline, f"no {text!r} in the output:\n{demo.output()}"
        time.sleep(0.02)


def assert_all_gone(demo: Demo, server: str) -> None:
    # Positive control: the scan saw every part of the demo while it ran.
    for part in ("redis-server", "-m xmpp_plugin", "-m component", "oidc_provider.mjs",
                 "prosody" if server == "prosody" else "beam.smp"):
        assert part in demo.commands, f"{part} not among the demo's processes: {demo.commands}"
    try:
        demo.proc.wait(60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the demo did not stop within 60 s:\n{demo.output()}") from None
    deadline = time.monotonic() + 1.0  # a SIGKILLed process may take a moment to vanish
    while (left := still_running(demo.pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"left running: {left}\n{demo.output()}"
    busy = {name: port for name, port in demo.ports.items() if port_open(port)}
    assert not busy, f"ports still in use: {busy}\n{demo.output()}"
    assert "demo: stopped" in demo.output()


@pytest.fixture
def run_dir() -> Iterator[Path]:
    # The ejabberd node runs as user ejabberd: pytest's 0700 tmp folders are out of its reach.
    path = Path(tempfile.mkdtemp(prefix="idchat-stopping-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _kill_leftovers(demo: Demo | None) -> None:
    """Whatever a failed stop left behind must not break the next test."""
    if demo is None:
        return
    if demo.proc.poll() is None:  # not reaped: its pid is still the demo's
        demo.pids.update(descendants(demo.proc.pid))
        os.killpg(demo.proc.pid, signal.SIGKILL)
        demo.proc.wait()
    for pid in still_running(demo.pids):
        os.kill(pid, signal.SIGKILL)


# (server, via make, signals to the group, the second signal only once the cleanup began)
CASES = {
    # make forwards the SIGTERM to the demo: the demo gets two, the second in its cleanup.
    "make, SIGTERM": ("prosody", True, [signal.SIGTERM], False),
    "make, SIGINT": ("prosody", True, [signal.SIGINT], False),
    "demo.py, SIGTERM twice quickly": ("prosody", False, [signal.SIGTERM, signal.SIGTERM], False),
    "demo.py, SIGTERM then SIGINT during the cleanup":
        ("prosody", False, [signal.SIGTERM, signal.SIGINT], True),
    "make, ejabberd, SIGTERM then SIGTERM during the cleanup":
        ("ejabberd", True, [signal.SIGTERM, signal.SIGTERM], True),
}


@pytest.mark.timeout(150)
@pytest.mark.parametrize("case", list(CASES))
def test_the_demo_stops_everything_it_started(case: str, run_dir: Path) -> None:
    server, via_make, signals, in_cleanup = CASES[case]
    rounds = 2 if server == "prosody" else 1  # a few in a row: the old failure was 1 in 3
    for round_ in range(rounds):
        (run_dir / f"round{round_}").mkdir()
        demo = None
        try:
            demo = start_demo(server, via_make, run_dir / f"round{round_}")
            wait_ready(demo)
            os.killpg(demo.proc.pid, signals[0])
            for sig in signals[1:]:
                if in_cleanup:
                    wait_for_output(demo, "demo: stopping")
                    time.sleep(0.1)
                else:
                    time.sleep(0.05)
                os.killpg(demo.proc.pid, sig)
            if in_cleanup:
                # It arrived while the demo was stopping, and was ignored (not merely absent).
                wait_for_output(demo, f"{signals[-1].name} ignored")
            assert_all_gone(demo, server)
        finally:
            _kill_leftovers(demo)


def _watch_until(proc: subprocess.Popen[bytes], out: Path, seen: dict[int, str],
                 commands: dict[int, str], ready: list[str], said: str = "",
                 timeout: float = 90) -> None:
    """Collect ``proc``'s descendants (they come and go) until all of ``ready`` ran and its
    output has ``said``."""
    deadline = time.monotonic() + timeout
    while True:
        for pid, started in descendants(proc.pid).items():
            seen.setdefault(pid, started)
            # A child caught between its fork and its exec still shows its parent's command
            # line: read it again on every pass while it lives.
            commands[pid] = _cmdline(pid) or commands.get(pid, "")
        joined = " | ".join(commands.values())
        if all(part in joined for part in ready) and said in out.read_text(errors="replace"):
            return
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{out.read_text()}"
        assert time.monotonic() < deadline, f"{ready} not all seen in time: {joined}"
        time.sleep(0.05)


def _stop_and_check(proc: subprocess.Popen[bytes], out: Path, seen: dict[int, str],
                    signals: list[signal.Signals]) -> None:
    for i, sig in enumerate(signals):
        if i:
            time.sleep(0.05)
        os.killpg(proc.pid, sig)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"did not stop within 60 s:\n{out.read_text()}") from None
    deadline = time.monotonic() + 1.0
    while (left := still_running(seen)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"left running: {left}\n{out.read_text()}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("launcher_kind", ["pytest", "chat benchmark", "soak benchmark"])
def test_tests_and_benchmarks_stop_everything_they_started(launcher_kind: str,
                                                           tmp_path: Path) -> None:
    """The test suite (its fixtures) and a benchmark, stopped by a supervisor with SIGTERM
    twice while their servers start or run: nothing they started is left."""
    out = tmp_path / "out"
    said = ""
    if launcher_kind == "pytest":
        cmd = [sys.executable, "-m", "pytest", "-q",
               "tests/integration/test_standby.py"]
        ready = ["redis-server", "prosody"]  # the session's Redis, the module's Prosody
    elif launcher_kind == "chat benchmark":
        # More sessions than 20 s can use: it must still be running when it is stopped.
        cmd = [sys.executable, "bench/chat_sessions.py", "--concurrency", "1", "--duration",
               "20", "--warmup", "0", "--chats-for-memory", "0", "--quiet-wait", "0",
               "--sessions", "300", "--agents", "2"]
        ready = ["redis-server", "prosody", "-m xmpp_plugin", "-m component"]
    else:  # also a process pool that mints tokens, and prosodyctl shell now and then
        cmd = [sys.executable, "bench/soak.py", "--minutes", "1", "--report-every", "0.1",
               "--agents", "2", "--rate", "5"]
        ready = ["redis-server", "prosody", "-m xmpp_plugin", "-m component"]
        said = "soak: 1 min at"  # the run began: the minting worker is there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDCHAT_", "PYTEST_"))}
    seen: dict[int, str] = {}
    commands: dict[int, str] = {}
    with out.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _watch_until(proc, out, seen, commands, ready, said)
        _stop_and_check(proc, out, seen, [signal.SIGTERM, signal.SIGTERM])
        if launcher_kind == "pytest":  # interrupted, not finished
            assert "KeyboardInterrupt" in out.read_text(), out.read_text()
        else:
            assert "interrupted; everything this benchmark started was stopped" \
                in out.read_text(), out.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in still_running(seen):
            os.kill(pid, signal.SIGKILL)


def test_an_epmd_of_ours_is_found_and_no_other(tmp_path: Path) -> None:
    """ejabberd's epmd: with ERL_DIST_PORT none is started, but should one run, stop() ends
    the one started for this node (its environment names our configuration) and never the
    system's or another node's."""
    epmd = "/usr/bin/epmd"  # as ejabberdctl names it
    server = EjabberdServer(tmp_path / "ejabberd", {  # a node name nobody else uses
        "IDCHAT_XMPP_COMPONENT_SECRET": "x", "IDCHAT_XMPP_C2S_PORT": str(free_port()),
        "IDCHAT_XMPP_COMPONENT_PORT": str(free_port()), "IDCHAT_XMPP_HTTP_PORT": str(free_port())})
    ours_env = {**os.environ,
                "EJABBERD_CONFIG_PATH": str(server.conf_dir / "ejabberd.yml")}
    other_env = {**os.environ, "EJABBERD_CONFIG_PATH": str(tmp_path / "other" / "ejabberd.yml")}
    procs = [subprocess.Popen([epmd, "-port", str(free_port()), "-address", "127.0.0.1"],
                              env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for e in (ours_env, other_env)]
    try:
        deadline = time.monotonic() + 5
        while not all(pid_alive(p.pid) for p in procs):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert server.epmd_pids() == {procs[0].pid}
        server.stop()  # not started: only the epmd of ours is left to end
        assert procs[0].wait(5) == -signal.SIGTERM
        assert procs[1].poll() is None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
