"""The real stack for the browser tests, and Chromium driven by Playwright.

Every browser test runs on **both XMPP servers**, Prosody and ejabberd, each started once
per session from the project's own configuration (prosody/, ejabberd/), with Redis. Every
test gets its own HTTP service and component (``python -m xmpp_plugin``,
``python -m component``, exactly as deployed) with a fresh Redis key prefix, so no chat
leaks from one test into the next. Chromium is Debian's (/usr/bin/chromium), never a
downloaded build.

How a test file gets the server (nothing to do for the usual case):

- A test that uses the ``stack`` fixture (or ``xmpp_side``) is collected once per server,
  with ids ``[prosody]`` and ``[ejabberd]``; ``stack.server`` says which it runs on.
- A test whose subject cannot differ between the servers (pure page layout, language,
  zoom) may run on one only, to save time: ``@pytest.mark.server("prosody")`` on the
  test, or ``pytestmark = [pytest.mark.e2e, pytest.mark.server("prosody")]`` for a file.
  Every page state must still be seen on each server by some test.
- ``make test PYTEST_ARGS="tests/e2e -k ejabberd"`` runs the browser tier on one server.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from ejabberd_server import EjabberdServer
from prosody_server import ProsodyServer
from redis_server import RedisServer, free_port, wait_for_port
from webstack import (
    AGENT_DOMAIN,
    AGENT_PASSWORD,
    AGENTS,
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    CONVERSE,
    TEST_PRIVKEY,
    TEST_PUBKEY,
    Stack,
    spawn,
    stop,
)


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (make setup installs it)"
    if not CONVERSE.exists() or not AXE.exists():
        return "web/node_modules is missing (make setup runs npm ci in web/)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason:
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


SERVERS = ("prosody", "ejabberd")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test that needs the XMPP side runs once per server (or per ``server`` marker)."""
    if "xmpp_side" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("server")
    kinds = marker.args if marker else SERVERS
    if not kinds or set(kinds) - set(SERVERS):
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: server marker {kinds!r}, "
                                f"expected names from {SERVERS}")
    metafunc.parametrize("xmpp_side", kinds, indirect=True, scope="session")


@dataclass
class XmppSide:
    kind: str  # "prosody" or "ejabberd"
    server: ProsodyServer | EjabberdServer
    env: dict[str, str]
    http_port: int


@pytest.fixture(scope="session")
def xmpp_side(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[XmppSide]:
    kind = request.param
    http_port = free_port()
    env = {
        "IDCHAT_XMPP_SERVER": kind,
        "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
        "IDCHAT_XMPP_C2S_PORT": str(free_port()),
        "IDCHAT_XMPP_COMPONENT_PORT": str(free_port()),
        "IDCHAT_XMPP_HTTP_PORT": str(free_port()),
        # Prosody's WebSocket CORS allows this origin: the HTTP service keeps one port.
        "IDCHAT_HTTP_EXTERNAL_URL": f"http://127.0.0.1:{http_port}",
        # Every browser comes from 127.0.0.1: far above the production cap of 10.
        "IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS": "10000",
    }
    env["IDCHAT_XMPP_WEBSOCKET_URL"] = f"ws://127.0.0.1:{env['IDCHAT_XMPP_HTTP_PORT']}/xmpp-websocket"
    if kind == "prosody":
        workdir = tmp_path_factory.mktemp("prosody-e2e")
        server: ProsodyServer | EjabberdServer = ProsodyServer(workdir, env)
    else:
        # ejabberd runs as its own user, which cannot enter pytest's private tmp folders.
        workdir = Path(tempfile.mkdtemp(prefix="idchat-ejabberd-e2e-"))
        os.chmod(workdir, 0o755)
        server = EjabberdServer(workdir, env)
    server.start()
    try:
        for name in AGENTS:
            server.register(name, AGENT_DOMAIN, AGENT_PASSWORD)
        yield XmppSide(kind, server, env, http_port)
    finally:
        server.stop()
        if kind == "ejabberd":
            shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    """/readyz answers 200 once Redis is up and the component holds its XMPP stream."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the stack was not ready within {timeout} s")


@pytest.fixture
def stack(xmpp_side: XmppSide, redis_server: RedisServer, tmp_path: Path,
          request: pytest.FixtureRequest) -> Iterator[Stack]:
    port = xmpp_side.http_port
    env = {name: value for name, value in os.environ.items() if not name.startswith("IDCHAT_")}
    env.update(xmpp_side.env)
    env.update({
        "IDCHAT_HTTP_PORT": str(port),
        "IDCHAT_HTTP_INTERNAL_URL": f"http://127.0.0.1:{port}",
        "IDCHAT_REDIS_URL": redis_server.url,
        "IDCHAT_REDIS_KEY_PREFIX": "idchat-e2e-" + secrets.token_hex(4),
        "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
        "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
        "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
        "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY),
        "IDCHAT_DEMO_ENABLED": "true",  # the published test keys: tests only
        "IDCHAT_UI_HOME_URL": "https://www.gemeente-voorbeeld.invalid/contact",
        "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDCHAT_ROUTING_OFFER_TIMEOUT_SECONDS": "20",
        "IDCHAT_ROUTING_NO_AGENT_TIMEOUT_SECONDS": "3",
        "IDCHAT_LOG_LEVEL": "INFO",
    })
    extra = request.node.get_closest_marker("stack_env")
    if extra:
        env.update({k: v.replace("{base}", f"http://127.0.0.1:{port}") for k, v in extra.kwargs.items()})
    logs = {"http": tmp_path / "http.log", "component": tmp_path / "component.log"}
    st = Stack(f"http://127.0.0.1:{port}", xmpp_side.env["IDCHAT_XMPP_WEBSOCKET_URL"], env, logs)
    st.processes.append(spawn("xmpp_plugin", env, logs["http"]))
    st.processes.append(spawn("component", env, logs["component"]))
    try:
        wait_for_port(port, 20, st.processes[0])
        _wait_ready(st.base_url, st.processes)
        yield st
    finally:
        for proc in reversed(st.processes):
            stop(proc)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
