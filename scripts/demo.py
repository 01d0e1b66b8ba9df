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

from redis_server import RedisServer, wait_for_port  # noqa: E402

RUN = ROOT / "run" / "demo"
HTTP_PORT = 8002


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", choices=["prosody", "ejabberd"], default="prosody")
    args = parser.parse_args()
    RUN.mkdir(parents=True, exist_ok=True)
    env = {**os.environ,
           "IDCHAT_CONFIG": str(ROOT / "demo" / "idchat.toml"),
           "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
           "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
           "IDCHAT_XMPP_SERVER": args.server}
    started: list[object] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        redis = RedisServer(RUN / "redis", 16379).start()
        started.append(redis)
        procs.append(_spawn([sys.executable, "-m", "xmpp_plugin"], env, RUN / "http.log"))
        wait_for_port(HTTP_PORT, 20, procs[-1])
        _banner()
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


def _banner() -> None:
    print(f"""
ID Chat demo is running (logs in run/demo/).
  !! It uses the PUBLISHED ID Contact TEST KEYS: demo only, never production. !!

  Play the ID Contact core (start a chat):  http://127.0.0.1:{HTTP_PORT}/demo/core
  Health / readiness:                       http://127.0.0.1:{HTTP_PORT}/healthz  /readyz
  API description:                          http://127.0.0.1:{HTTP_PORT}/openapi.json

Press Ctrl-C to stop everything.
""", flush=True)


if __name__ == "__main__":
    sys.exit(main())
