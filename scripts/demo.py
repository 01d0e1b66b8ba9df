"""`make demo`: the whole ID Chat stack from the project folder, until Ctrl-C.

Starts a private Redis, the XMPP server (Prosody, or ejabberd with --server ejabberd),
the HTTP service with the core simulator, and the component; agents sign in through a
real local OpenID Provider (scripts/oidc_provider.mjs, npm oidc-provider) with demo
users, or, with --agents xmpp-accounts, with demo accounts on the XMPP server; prints
what to open. Secrets are generated fresh for every run; everything started
is stopped on exit, whatever signals arrive (SIGINT, SIGTERM, SIGHUP: the first one
stops the demo, later ones are ignored until everything is stopped; scripts/launcher.py).
Ports and URLs come from demo/idchat.toml, overridable with the usual IDCHAT_*
variables (e.g. IDCHAT_HTTP_PORT, IDCHAT_REDIS_URL, IDCHAT_XMPP_C2S_PORT).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import launcher  # noqa: E402
from ejabberd_server import EjabberdServer  # noqa: E402
from oidc_server import CLIENT_ID, OidcProvider  # noqa: E402
from prosody_server import ProsodyServer  # noqa: E402
from redis_server import RedisServer, wait_for_port  # noqa: E402

sys.path.insert(0, str(ROOT))
from xmpp_plugin.settings import Settings, load_settings  # noqa: E402

RUN = ROOT / "run" / "demo"
DEMO_AGENTS = ("anna", "bram")
# The demo provider's users (scripts/oidc_provider.mjs): password = user name.
OIDC_USERS = (("anna", "agent"), ("sophie", "agent and supervisor"),
              ("mark", "agent, signs in with the one-time code 123456 (MFA)"),
              ("pieter", "no agent role: refused"))


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
            "IDCHAT_AGENTS_MODE": settings.agents.mode,
            "IDCHAT_AGENTS_CREDENTIAL_KEY_FILE": settings.agents.credential_key_file,
            "IDCHAT_AGENTS_CREDENTIAL_TTL_SECONDS": str(settings.agents.credential_ttl_seconds),
            # Every demo browser tab comes from 127.0.0.1 (production cap: 10).
            "IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS": "1000"}


def main() -> int:
    launcher.install_stop_handlers()  # before anything is started
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=["prosody", "ejabberd"], default="prosody")
    parser.add_argument("--agents", choices=["oidc", "xmpp-accounts"], default="oidc",
                        help="agents sign in with the demo OpenID Provider (default) or with "
                             "accounts on the XMPP server")
    parser.add_argument("--run-dir", type=Path, default=RUN,
                        help="folder for the servers' data and the logs (default run/demo)")
    args = parser.parse_args()
    run = args.run_dir.resolve()
    run.mkdir(parents=True, exist_ok=True)
    env = {**os.environ,
           "IDCHAT_CONFIG": str(ROOT / "demo" / "idchat.toml"),
           "IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(os.urandom(32)).decode(),
           "IDCHAT_XMPP_COMPONENT_SECRET": secrets.token_urlsafe(24),
           "IDCHAT_XMPP_SERVER": args.server,
           # Audit events (who received which attribute names) apart from the logs.
           "IDCHAT_LOG_AUDIT_FILE": str(run / "audit.log")}
    os.chdir(ROOT)
    settings = load_settings(environ=env)
    if "IDCHAT_AUTH_CORE_URL" not in env:  # the simulated core lives in the HTTP service
        env["IDCHAT_AUTH_CORE_URL"] = f"{settings.http.internal_url}/demo/core"
        settings = load_settings(environ=env)
    http_port = settings.http.port
    provider = None
    redis_port = urllib.parse.urlsplit(settings.redis.url).port or 6379
    procs: list[subprocess.Popen[bytes]] = []
    try:
        RedisServer(run / "redis", redis_port).start()
        if args.agents == "oidc":
            provider = _start_provider(settings, run, env)
            settings = load_settings(environ=env)
        server_cls = ProsodyServer if args.server == "prosody" else EjabberdServer
        xmpp = server_cls(run / args.server, server_env(settings))
        xmpp.start()
        passwords = {}
        if provider is None:  # no password accounts in oidc mode
            passwords = {name: secrets.token_urlsafe(9) for name in DEMO_AGENTS}
            for name, password in passwords.items():
                xmpp.register(name, settings.xmpp.agent_domain, password)
        procs.append(_spawn([sys.executable, "-m", "xmpp_plugin"], env, run / "http.log"))
        procs.append(_spawn([sys.executable, "-m", "component"], env, run / "component.log"))
        wait_for_port(http_port, 20, procs[0])
        _wait_ready(procs, http_port, run)
        _banner(settings, passwords, args.server, http_port, run, provider)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print(f"demo: a process stopped; see the logs in {run}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping (further signals are ignored until everything is stopped)",
              flush=True)
        return 0
    finally:
        # The component and the HTTP service first, then the XMPP server, then Redis.
        launcher.stop_all()
        print("demo: stopped", flush=True)


def _start_provider(settings: Settings, run: Path, env: dict[str, str]) -> OidcProvider:
    """The demo OpenID Provider on a free port, and the settings that point at it: fresh
    secrets (client secret, credential key) in files only the demo's user can read."""
    secrets_dir = run / "oidc"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    client_secret, credential_key = secrets_dir / "client-secret", secrets_dir / "credential-key"
    for path in (client_secret, credential_key):
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    base = settings.http.external_url
    provider = OidcProvider([f"{base}/agent/oidc/callback"], client_secret_file=client_secret,
                            post_logout_redirect_uris=[f"{base}/agent"]).start()
    env.update({"IDCHAT_AGENTS_MODE": "oidc", "IDCHAT_AGENTS_ISSUER": provider.issuer,
                "IDCHAT_AGENTS_CLIENT_ID": CLIENT_ID,
                "IDCHAT_AGENTS_CLIENT_SECRET_FILE": str(client_secret),
                "IDCHAT_AGENTS_CREDENTIAL_KEY_FILE": str(credential_key),
                "IDCHAT_AGENTS_SCOPES": "openid,profile,idchat",
                "IDCHAT_AGENTS_GROUP_PURPOSES":
                    "kcc-algemeen=*,kcc-belastingen=request_permit|personal_question"})
    return provider


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # in our process group: Ctrl-C reaches them at once
        return launcher.popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)


def _wait_ready(procs: list[subprocess.Popen[bytes]], http_port: int, run: Path,
                timeout: float = 30) -> None:
    """/readyz answers 200 once Redis is up and the component is connected."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a process stopped during start-up; see {run}/*.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"the stack did not become ready; see {run}/*.log")


def _banner(settings: Settings, passwords: dict[str, str], server: str, http_port: int,
            run: Path, provider: OidcProvider | None) -> None:
    supervisors = set(settings.routing.supervisors)
    agents = "\n".join(f"    {name}@{settings.xmpp.agent_domain}   password: {pw}"
                        + ("   (team lead: also the team overview)"
                           if f"{name}@{settings.xmpp.agent_domain}" in supervisors else "")
                        for name, pw in passwords.items())
    if provider is not None:
        agents = (f"    through the demo OpenID Provider ({provider.issuer}); password = user name:\n"
                  + "\n".join(f"    {name:8} {what}" for name, what in OIDC_USERS))
    print(f"""
ID Chat demo is running on {server} (logs in {run}).
  !! It uses the PUBLISHED ID Contact TEST KEYS: demo only, never production. !!

  1. Agent console (sign in as a demo agent):  http://127.0.0.1:{http_port}/agent
{agents}
  2. Play the ID Contact core, start a chat:  http://127.0.0.1:{http_port}/demo/core
     (use another browser window; the chat opens there)
  3. In a chat that is not verified, the agent asks the citizen to log in
     ("Inwoner laten inloggen" on the card); the citizen's "Log in met DigiD"
     opens the simulated login: pick a person or fail, and back to the chat.

  Health / readiness:   http://127.0.0.1:{http_port}/healthz   /readyz
  API description:      http://127.0.0.1:{http_port}/openapi.json

Press Ctrl-C to stop everything.
""", flush=True)


if __name__ == "__main__":
    sys.exit(main())
