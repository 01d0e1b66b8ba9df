"""`make demo`: the whole ID Chat stack from the project folder, until Ctrl-C.

Starts a private Redis, the XMPP server (Prosody, or ejabberd with --server ejabberd),
the HTTP service with the core simulator, and the component; creates demo agents;
prints what to open. Secrets are generated fresh for every run; everything started
is stopped on exit.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from ejabberd_server import EjabberdServer  # noqa: E402
from prosody_server import ProsodyServer  # noqa: E402
from redis_server import RedisServer, wait_for_port  # noqa: E402

sys.path.insert(0, str(ROOT))
from xmpp_plugin.settings import Settings, load_settings  # noqa: E402

RUN = ROOT / "run" / "demo"
HTTP_PORT = 8002
DEMO_AGENTS = ("anna", "bram")


def server_env(settings: Settings) -> dict[str, str]:
    """The XMPP server's configuration reads the same settings as our processes."""
    x = settings.xmpp
    return {"IDCHAT_XMPP_AGENT_DOMAIN": x.agent_domain, "IDCHAT_XMPP_GUEST_DOMAIN": x.guest_domain,
            "IDCHAT_XMPP_MUC_DOMAIN": x.muc_domain,
            "IDCHAT_XMPP_COMPONENT_DOMAIN": x.component_domain,
            "IDCHAT_XMPP_COMPONENT_SECRET": x.component_secret,
            "IDCHAT_XMPP_C2S_PORT": str(x.c2s_port),
            "IDCHAT_XMPP_COMPONENT_PORT": str(x.component_port),
            "IDCHAT_XMPP_HTTP_PORT": str(x.http_port),
            "IDCHAT_HTTP_EXTERNAL_URL": settings.http.external_url,
            # Every demo browser tab comes from 127.0.0.1 (production cap: 10).
            "IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS": "1000"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", choices=["prosody", "ejabberd"], default="prosody")
    args = parser.parse_args()
    RUN.mkdir(parents=True, exist_ok=True)
    env = {**os.environ,
           "IDCHAT_CONFIG": str(ROOT / "demo" / "idchat.toml"),
           "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
           "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
           "IDCHAT_XMPP_SERVER": args.server,
           # Audit events (who received which attribute names) apart from the logs.
           "IDCHAT_LOG_AUDIT_FILE": str(RUN / "audit.log")}
    os.chdir(ROOT)
    settings = load_settings(environ=env)
    started: list[object] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis = RedisServer(RUN / "redis", 16379).start()
        started.append(redis)
        server_cls = ProsodyServer if args.server == "prosody" else EjabberdServer
        xmpp = server_cls(RUN / args.server, server_env(settings))
        xmpp.start()
        started.append(xmpp)
        passwords = {name: secrets.token_urlsafe(9) for name in DEMO_AGENTS}
        for name, password in passwords.items():
            xmpp.register(name, settings.xmpp.agent_domain, password)
        procs.append(_spawn([sys.executable, "-m", "xmpp_plugin"], env, RUN / "http.log"))
        procs.append(_spawn([sys.executable, "-m", "component"], env, RUN / "component.log"))
        wait_for_port(HTTP_PORT, 20, procs[0])
        _wait_ready(procs)
        _banner(settings, passwords, args.server)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("demo: a process stopped; see the logs in run/demo/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping")
        return 0
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for server in reversed(started):
            server.stop()  # type: ignore[attr-defined]


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_ready(procs: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """/readyz answers 200 once Redis is up and the component is connected."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a process stopped during start-up; see run/demo/*.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/readyz", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError("the stack did not become ready; see run/demo/*.log")


def _banner(settings: Settings, passwords: dict[str, str], server: str) -> None:
    agents = "\n".join(f"    {name}@{settings.xmpp.agent_domain}   password: {pw}"
                        for name, pw in passwords.items())
    print(f"""
ID Chat demo is running on {server} (logs in run/demo/).
  !! It uses the PUBLISHED ID Contact TEST KEYS: demo only, never production. !!

  1. Agent console (log in as a demo agent):  http://127.0.0.1:{HTTP_PORT}/agent
{agents}
  2. Play the ID Contact core, start a chat:  http://127.0.0.1:{HTTP_PORT}/demo/core
     (use another browser window; the chat opens there)

  Health / readiness:   http://127.0.0.1:{HTTP_PORT}/healthz   /readyz
  API description:      http://127.0.0.1:{HTTP_PORT}/openapi.json

Press Ctrl-C to stop everything.
""", flush=True)


if __name__ == "__main__":
    sys.exit(main())
