"""slixmpp test clients for the benchmark (loopback, test settings), and stanza counts."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import ssl
import time
from pathlib import Path
from typing import Any, Callable

from .common import GUEST_DOMAIN, STEP_TIMEOUT

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


class Waits:
    """Named one-shot events, waited for before or after they happen (the time they happened)."""

    def __init__(self) -> None:
        self._futs: dict[str, asyncio.Future[float]] = {}

    def _fut(self, key: str) -> asyncio.Future[float]:
        fut = self._futs.get(key)
        if fut is None:
            fut = self._futs[key] = asyncio.get_running_loop().create_future()
        return fut

    def set(self, key: str) -> None:
        fut = self._fut(key)
        if not fut.done():
            fut.set_result(time.perf_counter())

    def is_set(self, key: str) -> bool:
        return key in self._futs and self._futs[key].done()

    async def first(self, keys: list[str], timeout: float) -> str | None:
        """The first of ``keys`` to happen within ``timeout`` s, or None."""
        futs = {self._fut(k): k for k in keys}
        done, _ = await asyncio.wait(futs, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return futs[next(iter(done))] if done else None

    def forget(self, prefix: str) -> None:
        for key in [k for k in self._futs if k.startswith(prefix)]:
            del self._futs[key]


class Inbox(Waits):
    """Room messages by body: a waiter may come before or after its message."""

    def arrived(self, key: str) -> None:
        self.set(key)

    async def wait(self, key: str, step: str) -> float:
        fut = self._fut(key)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), STEP_TIMEOUT)
        except asyncio.TimeoutError:
            raise StepError(step, "timeout") from None
        finally:
            self._futs.pop(key, None)


async def guest_login(port: int, setup: Callable[[Any], None] | None = None) -> Any:
    """An anonymous guest (as the citizen's browser logs in), logged in; ``setup`` registers
    its handlers before the session starts."""
    xmpp = make_client(GUEST_DOMAIN, "", sasl_mech="ANONYMOUS")
    if setup is not None:
        setup(xmpp)
    await start_session(xmpp, port)
    return xmpp




# --------------------------------------------------------------------------- stanza counts

_PROBE_FILE = Path(__file__).resolve().parent / "probe" / "sitecustomize.py"
_local_counts: dict[str, int] | None = None


def local_stanzas() -> dict[str, int]:
    """Stanzas (message, presence, IQ) that the slixmpp clients of this process sent ("out")
    and received ("in") so far: counted from the first call on."""
    global _local_counts
    if _local_counts is None:
        spec = importlib.util.spec_from_file_location("chatbench_probe", _PROBE_FILE)
        assert spec is not None and spec.loader is not None
        probe = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(probe)
        _local_counts = probe.count_stanzas()
    return dict(_local_counts)


def read_probe(pid: int, path: Path, timeout: float = 3.0) -> dict[str, Any] | None:
    """The counts of a process started with the probe (stack.PROBE; its docstring says what
    they are): SIGUSR2 makes it write them to ``path``; None when no new reading came in
    time. The probe writes the file as it starts: without the file, no signal is sent
    (SIGUSR2 unhandled would end the process)."""
    def read() -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
    before = read()
    if before is None:
        return None
    try:
        os.kill(pid, signal.SIGUSR2)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read()
        if now is not None and now["seq"] > before["seq"]:
            return now
        time.sleep(0.01)
    return None
