"""What every launcher (the demo, the server scripts, the benchmarks, the test fixtures)
shares: it stops what it started, whatever signals arrive. Standard library only.

Why this is needed: a supervisor or ``timeout`` sends SIGTERM to a whole process group.
``make demo`` then gets it too and forwards a second SIGTERM to the demo, which arrives
while the demo is cleaning up; the default handling (an exception at any point) cut the
cleanup short, and Prosody, which runs in a session of its own, kept running.

* :func:`install_stop_handlers`: the first SIGINT, SIGTERM or SIGHUP raises
  ``KeyboardInterrupt`` in the main thread; every later one is ignored (noted on stderr),
  so nothing can interrupt the cleanup the first one started.
* :func:`spawning`: a signal that arrives while a child is being started and registered is
  held back until that is done, so no child exists without an entry that stops it.
* The registry (:func:`register`, :func:`unregister`, :func:`stop_all`): everything started,
  stopped in reverse order. :func:`stop_all` also runs at interpreter exit, as the last
  resort when a cleanup was cut short all the same (an exception, a signal before the
  ``finally``).
* :func:`popen` / :func:`stop_process`: a child process registered as it starts; stopping
  it signals its whole process group when it has a session of its own.
* :class:`ModuleProcess`: one of our own processes (``python -m <module>``) with its own
  log file, started and stopped through the two above (benchmarks and test fixtures).
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _State:
    stopping = False          # a stop signal came, or stop_all() began: signals are ignored
    deferring = 0             # depth of spawning() sections
    pending: int | None = None  # a signal held back by spawning()
    ignored = 0               # signals ignored while stopping


_state = _State()
_lock = threading.RLock()
# Each entry: (the object that was started, how to stop it). In start order.
_started: list[tuple[object, Callable[[], None]]] = []
_owner_pid = os.getpid()  # a forked child inherits the list but owns none of it


def install_stop_handlers() -> None:
    """SIGINT, SIGTERM and SIGHUP: the first raises KeyboardInterrupt, later ones are ignored.
    Only from the main thread (Python runs signal handlers there); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        signal.signal(sig, _on_signal)


def stopping() -> bool:
    """A stop signal came (or the cleanup began)."""
    return _state.stopping


def _on_signal(signum: int, _frame: object) -> None:
    if _state.stopping:
        _state.ignored += 1
        # os.write, not print: a handler may run in the middle of a print to the same stream.
        os.write(2, f"{signal.Signals(signum).name} ignored: stopping what was started\n"
                 .encode())
        return
    if _state.deferring:
        _state.pending = signum
        return
    _state.stopping = True
    raise KeyboardInterrupt


@contextmanager
def spawning() -> Iterator[None]:
    """Hold back a stop signal until the block is done (start a child, register it).
    Signals are handled in the main thread only: in another thread this holds nothing back
    (and needs not: the exception cannot land in that thread's block)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        if not _state.deferring and _state.pending is not None:
            _state.pending = None
            if not _state.stopping:
                _state.stopping = True
                raise KeyboardInterrupt


def register(thing: object, stop: Callable[[], None]) -> None:
    with _lock:
        _started.append((thing, stop))


def unregister(thing: object) -> None:
    with _lock:
        _started[:] = [(t, s) for t, s in _started if t is not thing]


def stop_all() -> None:
    """Stop everything still registered, the last started first. From here on, stop signals
    are ignored. Each stop is tried even when an earlier one failed."""
    if os.getpid() != _owner_pid:
        return
    _state.stopping = True
    while True:
        with _lock:
            if not _started:
                return
            thing, stop = _started.pop()
        try:
            stop()
        except Exception as exc:  # noqa: BLE001 - stop the rest regardless
            print(f"while stopping {type(thing).__name__}: {type(exc).__name__}: {exc}",
                  file=sys.stderr)


atexit.register(stop_all)


# --------------------------------------------------------------------------- child processes


def popen(args: Sequence[str], *, own_session: bool = False, stop_timeout: float = 10,
          **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` registered as it starts. ``own_session``: in a session (and
    process group) of its own, out of reach of signals sent to ours; it is stopped with
    its whole group."""
    with spawning():
        proc: subprocess.Popen[bytes] = subprocess.Popen(args, start_new_session=own_session,
                                                         **kwargs)
        register(proc, lambda: terminate(proc, group=own_session, timeout=stop_timeout))
        proc._idchat_group = own_session  # type: ignore[attr-defined]
    return proc


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """SIGTERM (to its group when it has its own session), SIGKILL after ``timeout`` s."""
    if proc is None:
        return
    unregister(proc)
    terminate(proc, group=getattr(proc, "_idchat_group", False), timeout=timeout)


def terminate(proc: subprocess.Popen[Any], *, group: bool, timeout: float) -> None:
    """SIGTERM to ``proc`` (``group``: to its process group), SIGKILL after ``timeout`` s to
    whatever is left of it; then reap it. Does not touch the registry."""
    if proc.returncode is not None:  # reaped already: its pid may belong to another process
        return
    _signal(proc, group, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not _exited(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    # The leader is a zombie now or still running: its pid (the group's id) is not reused
    # yet, so the group can be signalled safely; SIGKILL takes what is left of it.
    _signal(proc, group, signal.SIGKILL)
    proc.wait()


def _signal(proc: subprocess.Popen[Any], group: bool, sig: int) -> None:
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:  # a member runs as another user (e.g. after su): reach the rest
        if group:
            try:
                os.kill(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def _exited(pid: int) -> bool:
    """Has our child ``pid`` exited? It is not reaped: the pid stays reserved."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    except OSError as exc:  # pragma: no cover - EINTR is retried by Python
        return exc.errno != errno.EINTR
    return info is not None


class ModuleProcess:
    """``python -m <module>`` (this interpreter, from ``cwd``) as a registered child with
    its own log file (appended to: a restart keeps the earlier output).

    ``own_session``: out of reach of signals sent to our process group (a benchmark's
    Ctrl-C reaches the benchmark only, which then stops its processes in order)."""

    def __init__(self, name: str, module: str, env: Mapping[str, str], log_path: Path,
                 cwd: Path, *, own_session: bool = False, stop_timeout: float = 10) -> None:
        self.name, self.module, self.env = name, module, dict(env)
        self.log_path, self.cwd = log_path, cwd
        self.own_session, self.stop_timeout = own_session, stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, extra_env: Mapping[str, str] | None = None) -> "ModuleProcess":
        with open(self.log_path, "ab") as log:
            self.proc = popen([sys.executable, "-m", self.module], own_session=self.own_session,
                              stop_timeout=self.stop_timeout, cwd=self.cwd,
                              env={**self.env, **(extra_env or {})},
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not started"
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
        """SIGTERM, SIGKILL after ``stop_timeout`` s; then reaped. A no-op when not started."""
        stop_process(self.proc, timeout=self.stop_timeout)
        self.proc = None


def run(args: Sequence[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` in a session of its own (a signal sent to our process group cannot
    kill it halfway, e.g. an ``ejabberdctl stop`` during the cleanup); on timeout its whole
    group is stopped. Raises subprocess.TimeoutExpired then, as subprocess.run does."""
    input_data = kwargs.pop("input", None)
    if input_data is not None:
        kwargs.setdefault("stdin", subprocess.PIPE)
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    check = kwargs.pop("check", False)
    with spawning():
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        register(proc, lambda: terminate(proc, group=True, timeout=3))
    try:
        try:
            out, err = proc.communicate(input_data, timeout=timeout)
        except BaseException:
            terminate(proc, group=True, timeout=3)
            raise
    finally:
        unregister(proc)
    if check and proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# --------------------------------------------------------------------------- /proc


def pid_alive(pid: int) -> bool:
    """Runs (a zombie nobody reaps still has a /proc entry: not alive)."""
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
