"""Helpers for the browser tests: the stack's HTTP side as the ID Contact core sees it,
pages with a watch on what they do, axe-core, screenshots, agents and citizens in a chat.

Kept apart from conftest.py: every test folder has a conftest module, so tests import
these by this module's own name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from playwright.async_api import Browser, BrowserContext, Page

import launcher
from xmpp_plugin.simulator import auth_claims, mint_token

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "e2e"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CONVERSE = ROOT / "web" / "node_modules" / "converse.js" / "dist" / "converse.min.js"
TEST_PRIVKEY = ROOT / "demo" / "test-keys" / "test-privkey.pem"  # published ID Contact test key
TEST_PUBKEY = ROOT / "demo" / "test-keys" / "test-pubkey.pem"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync",
                 "--no-first-run", "--metrics-recording-only", "--mute-audio",
                 "--autoplay-policy=no-user-gesture-required"]
AGENTS = ("romeo", "mercutio")
AGENT_PASSWORD = "e2e-only-password"
AGENT_DOMAIN = "agents.idchat.localhost"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ATTRS = {"fullname": "Juliet Capulet", "email": "juliet@capulet.lit", "bsn": "999990019",
         "city": "Verona"}


def token(attributes: dict[str, str] | None) -> str:
    """An auth result as an ID Contact auth plugin mints it (None: a failed authentication)."""
    encrypt_to = serialization.load_pem_public_key(TEST_PUBKEY.read_bytes())
    sign_with = serialization.load_pem_private_key(TEST_PRIVKEY.read_bytes(), None)
    return mint_token(auth_claims(attributes), encrypt_to, sign_with)  # type: ignore[arg-type]


@dataclass
class Stack:
    """One HTTP service and one component, as separate processes, on the shared XMPP server."""

    base_url: str
    websocket_url: str
    env: dict[str, str]
    logs: dict[str, Path]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def server(self) -> str:
        """The XMPP server under this stack: "prosody" or "ejabberd"."""
        return self.env["IDCHAT_XMPP_SERVER"]

    def start_session(self, attributes: dict[str, str] | None, *,
                      purpose: str = "report_move") -> str:
        """What the ID Contact core does: POST /start_communication; returns the client_url."""
        return str(self._start({"purpose": purpose, "auth_result": token(attributes)})["client_url"])

    def start_pending_session(self, *, purpose: str = "report_move") -> tuple[str, str]:
        """A session whose attributes come later: (client_url, attr_url)."""
        answer = self._start({"purpose": purpose})
        return str(answer["client_url"]), str(answer["attr_url"])

    def deliver(self, attr_url: str, attributes: dict[str, str] | None) -> None:
        """What an auth plugin does: POST the token to the attr_url."""
        request = urllib.request.Request(attr_url, data=token(attributes).encode(), method="POST",
                                         headers={"Content-Type": "application/jwt"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def _start(self, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.base_url + "/start_communication",
                                         data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.load(response))

    def stop_component(self) -> None:
        stop(self.processes[1])

    def start_component(self) -> None:
        self.processes[1] = spawn("component", self.env, self.logs["component"])

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(out)


def spawn(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # registered: stopped at exit should the teardown not run
        return launcher.popen([sys.executable, "-m", module], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    launcher.stop_process(proc, timeout=10)  # SIGTERM, SIGKILL after 10 s


class Watch:
    """What a page did: every request and WebSocket it opened, those that left the origin,
    script errors, dialogs. test_controls.py shows that it catches each of them."""

    def __init__(self, page: Page, stack: Stack) -> None:
        self.requests: list[str] = []
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        allowed = (stack.base_url + "/", stack.websocket_url, "data:", "blob:")

        def seen(url: str) -> None:
            self.requests.append(url)
            if not url.startswith(allowed):
                self.foreign.append(url)
        page.on("request", lambda r: seen(r.url))
        page.on("websocket", lambda ws: seen(ws.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        async def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()
        page.on("dialog", on_dialog)

    def assert_stayed_home(self) -> None:
        """No request left our origin, on a page the watch saw making requests (a watch
        that saw nothing at all was not watching this page)."""
        assert self.requests, "the watch saw no request: it is not watching this page"
        assert self.foreign == [], f"requests left the origin: {self.foreign}"


async def new_page(browser: Browser, stack: Stack, *, width: int = 1280, height: int = 860,
                   lang: str = "nl-NL", init_script: str | None = None,
                   **options: Any) -> tuple[BrowserContext, Page, Watch]:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale=lang,
                                        **options)
    if init_script:
        await context.add_init_script(init_script)
    page = await context.new_page()
    page.set_default_timeout(15000)
    return context, page, Watch(page, stack)


def shot_path(request: pytest.FixtureRequest, step: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    return str(ARTIFACTS / f"{name}--{step}.png")


async def screenshot(page: Page, request: pytest.FixtureRequest, step: str) -> None:
    await page.screenshot(path=shot_path(request, step), full_page=True)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it stands.

    The page's CSP (script-src 'self') refuses inline scripts, so page.add_script_tag(path=…)
    cannot inject axe; evaluating the file through the DevTools protocol is not subject to
    the CSP and leaves the page's own policy in force.
    """
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    return await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary),
            }));
        }""", WCAG_TAGS)


async def assert_accessible(page: Page, where: str) -> None:
    # Converse fades elements in: measure colours once transitions have finished, not
    # half-way (a label on its way to #1b1b1b reads as grey to axe).
    await page.evaluate("""() => Promise.all(document.getAnimations()
        .filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
        .map(a => a.finished))""")
    violations = await axe_violations(page)
    assert not violations, f"axe on {where}:\n" + json.dumps(violations, indent=1)


async def login_agent(browser: Browser, stack: Stack, name: str = "romeo", *,
                      available: bool = True, max_chats: int = 2, check_login_page: bool = False,
                      **options: Any) -> tuple[BrowserContext, Page, Watch]:
    """An agent in the console: logged in, capacity set, available (or not)."""
    context, page, watch = await new_page(browser, stack, **options)
    await page.goto(stack.base_url + "/agent")
    if check_login_page:
        await page.locator("#idchat-username").wait_for()
        await assert_accessible(page, "the agent console's login")
    await agent_credentials(page, name)
    await page.locator("idchat-agent-desk [data-action=availability]").wait_for(state="attached")
    await page.select_option("#idchat-max-chats", str(max_chats))
    if available:
        await page.locator(".idchat-switch").click()
        await page.locator(".idchat-desk__state.is-available").wait_for()
    return context, page, watch


async def agent_credentials(page: Page, name: str, password: str = AGENT_PASSWORD) -> None:
    await page.fill("#idchat-username", name)
    await page.fill("#idchat-password", password)
    await page.press("#idchat-password", "Enter")


async def citizen_in_chat(browser: Browser, stack: Stack, agent: Page,
                          attributes: dict[str, str] | None, *, agent_name: str = "Romeo",
                          **options: Any) -> tuple[BrowserContext, Page, Watch]:
    """A citizen opens a fresh client_url, the (available) agent accepts the offer."""
    client_url = stack.start_session(attributes)
    context, citizen, watch = await new_page(browser, stack, width=360, height=740, **options)
    await citizen.goto(client_url)
    await agent.locator("idchat-offer [data-action=accept]").click()
    await agent.locator(".idchat-card .idchat-badge").wait_for()
    await citizen.locator(".idchat-status--assigned", has_text=f"{agent_name} helpt u nu.").wait_for()
    return context, citizen, watch


async def say(page: Page, text: str) -> None:
    box = page.locator("textarea.chat-textarea:visible")
    await box.fill(text)
    await box.press("Enter")
