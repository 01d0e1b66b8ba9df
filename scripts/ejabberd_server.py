"""Run ejabberd from a project folder with the ID Chat configuration.

Used by the integration tests and the demo: renders ejabberd/ejabberd.yml (the
demo and test profile) or ejabberd/ejabberd.production.yml (TLS required on
c2s) and ejabberd/ejabberdctl.cfg into <workdir>/conf, compiles our module
ejabberd/mod_idchat_guests.erl into <workdir>/ebin and drives ejabberdctl,
which runs the node as the `ejabberd` user. Stdlib only.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launcher

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "ejabberd"
EJABBERDCTL = "ejabberdctl"
SERVICE_USER = "ejabberd"  # the Debian package's ejabberdctl runs the node as this user

DOMAIN_DEFAULTS = {
    "IDCHAT_XMPP_AGENT_DOMAIN": "agents.idchat.localhost",
    "IDCHAT_XMPP_GUEST_DOMAIN": "guest.idchat.localhost",
    "IDCHAT_XMPP_MUC_DOMAIN": "rooms.idchat.localhost",
    "IDCHAT_XMPP_COMPONENT_DOMAIN": "component.idchat.localhost",
}
PORT_DEFAULTS = {
    "IDCHAT_XMPP_C2S_PORT": 25222,
    "IDCHAT_XMPP_COMPONENT_PORT": 25347,
    "IDCHAT_XMPP_HTTP_PORT": 25280,
}
SECRET = "IDCHAT_XMPP_COMPONENT_SECRET"
INTERFACE = "IDCHAT_EJABBERD_INTERFACE"  # where every listener binds; 0.0.0.0 in a container
# Flood limits (the Prosody config reads the same names): (default, minimum, maximum).
LIMIT_DEFAULTS = {
    "IDCHAT_LIMITS_GUEST_RATE": (16000, 1000, 10**9),         # bytes/s, guest connections
    "IDCHAT_LIMITS_AGENT_RATE": (512000, 1000, 10**9),        # bytes/s, agent connections
    "IDCHAT_LIMITS_MAX_STANZA_BYTES": (65536, 10000, 2**24),  # largest client stanza
}
TRUSTED_PROXIES = "IDCHAT_LIMITS_TRUSTED_PROXIES"
TRUSTED_PROXIES_DEFAULT = "127.0.0.1,::1"
# The production profile's c2s certificate and key (PEM files the ejabberd user can read).
TLS_FILES = ("IDCHAT_XMPP_TLS_CERT_FILE", "IDCHAT_XMPP_TLS_KEY_FILE")
PROFILES = {"demo": "ejabberd.yml", "production": "ejabberd.production.yml"}
MODULE_SOURCE = TEMPLATE_DIR / "mod_idchat_guests.erl"
MODULE_SOURCES = (MODULE_SOURCE, TEMPLATE_DIR / "mod_idchat_credential.erl")
AGENTS_MODE = "IDCHAT_AGENTS_MODE"  # xmpp-accounts or oidc, as the HTTP service reads it
CREDENTIAL_KEY = "IDCHAT_AGENTS_CREDENTIAL_KEY"  # (or ..._FILE) the agents' credential key
CREDENTIAL_JWK = "credential.jwk"  # written into conf/ in oidc mode
CREDENTIAL_TTL = "IDCHAT_AGENTS_CREDENTIAL_TTL_SECONDS"  # agents.credential_ttl_seconds

_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_PLACEHOLDER = re.compile(r"@([A-Z0-9_]+)@")


class EjabberdError(RuntimeError):
    """ejabberd could not be configured, started, stopped or commanded."""


def xmpp_settings(env: Mapping[str, str], profile: str = "demo") -> dict[str, Any]:
    """The config values from `env` (defaults filled in); all problems at once."""
    if profile not in PROFILES:
        raise EjabberdError(f"unknown profile {profile!r}; one of {sorted(PROFILES)}")
    values: dict[str, Any] = {}
    problems = []
    for name, domain_default in DOMAIN_DEFAULTS.items():
        domain = env.get(name) or domain_default
        if not _DOMAIN.match(domain):
            problems.append(f"{name}={domain!r} is not a lower-case domain name")
        values[name] = domain
    if len(set(values.values())) != len(DOMAIN_DEFAULTS):
        problems.append("the agent, guest, MUC and component domains must all differ")
    for name, default in PORT_DEFAULTS.items():
        raw = env.get(name) or str(default)
        port = int(raw) if raw.isdigit() else 0
        if not 0 < port < 65536:
            problems.append(f"{name}={raw!r} is not a TCP port number")
        values[name] = port
    if len({values[name] for name in PORT_DEFAULTS}) != len(PORT_DEFAULTS):
        problems.append("the c2s, component and HTTP ports must all differ")
    if not env.get(SECRET):
        problems.append(f"{SECRET} is not set (the external component's password)")
    values[SECRET] = env.get(SECRET, "")
    interface = env.get(INTERFACE) or "127.0.0.1"
    try:
        ipaddress.ip_address(interface)
    except ValueError:
        problems.append(f"{INTERFACE}={interface!r} is not an IP address")
    values[INTERFACE] = interface
    for name, (default, low, high) in LIMIT_DEFAULTS.items():
        raw = env.get(name) or str(default)
        number = int(raw) if raw.isdigit() else -1
        if not low <= number <= high:
            problems.append(f"{name}={raw!r} is not a whole number from {low} to {high}")
        values[name] = number
    proxies = (env.get(TRUSTED_PROXIES) or TRUSTED_PROXIES_DEFAULT).replace(",", " ").split()
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"{TRUSTED_PROXIES}: {proxy!r} is not an IP address or network")
    values[TRUSTED_PROXIES] = proxies
    if profile == "production":
        for name in TLS_FILES:
            path = env.get(name, "")
            if not path or not Path(path).is_absolute():
                problems.append(f"{name} must be the absolute path of a PEM file (production profile)")
            values[name] = path
    mode = env.get(AGENTS_MODE) or "xmpp-accounts"
    if mode not in ("xmpp-accounts", "oidc"):
        problems.append(f"{AGENTS_MODE}={mode!r} is not xmpp-accounts or oidc")
    elif mode == "oidc" and len(_credential_key(env)) < 32:
        problems.append(f"{CREDENTIAL_KEY} (or {CREDENTIAL_KEY}_FILE) must hold at least 32 bytes "
                        "with IDCHAT_AGENTS_MODE=oidc")
    values[AGENTS_MODE] = mode
    raw = env.get(CREDENTIAL_TTL) or "300"
    ttl = int(raw) if raw.isdigit() else 0
    if not 1 <= ttl <= 3600:  # the HTTP service holds it to 60..3600; the tests use seconds
        problems.append(f"{CREDENTIAL_TTL}={raw!r} is not a whole number from 1 to 3600")
    values[CREDENTIAL_TTL] = ttl
    # The JWK's path is filled in where it is written (agent_auth).
    values["IDCHAT_EJABBERD_AGENT_AUTH"] = (
        {"auth_method": "jwt", "jwt_key": CREDENTIAL_JWK, "jwt_jid_field": "jid"}
        if mode == "oidc" else {"auth_method": "internal"})
    if problems:
        raise EjabberdError("invalid ejabberd settings:\n  " + "\n  ".join(problems))
    return values


def _credential_key(env: Mapping[str, str]) -> bytes:
    path = env.get(CREDENTIAL_KEY + "_FILE")
    if path:
        try:
            return Path(path).read_bytes().strip()
        except OSError:
            return b""
    return env.get(CREDENTIAL_KEY, "").encode()


def agent_auth(env: Mapping[str, str], conf_dir: Path) -> dict[str, str]:
    """The agent host's authentication: password accounts, or (oidc) ejabberd's native JWT
    check of the agents' credential, whose key is written as a JWK into ``conf_dir``."""
    if (env.get(AGENTS_MODE) or "xmpp-accounts") != "oidc":
        return {"auth_method": "internal"}
    jwk = Path(conf_dir) / CREDENTIAL_JWK
    key = base64.urlsafe_b64encode(_credential_key(env)).rstrip(b"=").decode()
    jwk.write_text(json.dumps({"kty": "oct", "use": "sig", "alg": "HS256", "k": key}))
    jwk.chmod(0o600)
    return {"auth_method": "jwt", "jwt_key": str(jwk), "jwt_jid_field": "jid"}


def render(template: str, values: Mapping[str, Any], quote: Callable[[Any], str]) -> str:
    """Replace each @NAME@ in `template` by quote(values[NAME]) in one pass."""
    missing = sorted({name for name in _PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise EjabberdError(f"no value for template placeholders: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)]), template)


def _yaml_scalar(value: str | int | list[str] | dict[str, str]) -> str:
    # JSON strings and arrays are YAML
    return str(value) if isinstance(value, int) else json.dumps(value)


def _shell_word(value: str | int) -> str:
    return shlex.quote(str(value))


def render_config(conf_dir: Path, env: Mapping[str, str], profile: str = "demo") -> Path:
    """Render ejabberd.yml alone into conf_dir (a container image brings its own ejabberdctl.cfg)."""
    target = Path(conf_dir) / "ejabberd.yml"
    values = {**xmpp_settings(env, profile), "IDCHAT_EJABBERD_AGENT_AUTH": agent_auth(env, conf_dir)}
    text = render((TEMPLATE_DIR / PROFILES[profile]).read_text(), values, _yaml_scalar)
    target.write_text(text)
    target.chmod(0o600)  # holds the component secret
    return target


def compile_module(target_dir: Path) -> list[Path]:
    """Compile our ejabberd modules (MODULE_SOURCES) into target_dir (erlc ships with
    ejabberd's Erlang)."""
    if shutil.which("erlc") is None:
        raise EjabberdError("erlc not found: install the ejabberd package (it brings erlang-base)")
    Path(target_dir).mkdir(parents=True, exist_ok=True)
    beams = []
    for source in MODULE_SOURCES:
        result = subprocess.run(["erlc", "-o", str(target_dir), str(source)],
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        beam = Path(target_dir) / (source.stem + ".beam")
        if result.returncode != 0 or not beam.is_file():
            raise EjabberdError(f"erlc {source.name} failed:\n{result.stdout}{result.stderr}")
        beams.append(beam)
    return beams


# the files copied from ejabberd/ into <workdir>/conf: (target, source, quoting rule)
_TEMPLATES = (("ejabberdctl.cfg", "ejabberdctl.cfg", _shell_word), ("inetrc", "inetrc", str))


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_pid_alive = launcher.pid_alive


def _pids(predicate: Callable[[list[bytes]], bool]) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if predicate(argv):
                pids.add(int(entry.name))
    return pids


def _epmd_pids() -> set[int]:
    return _pids(lambda argv: argv[0].endswith(b"/epmd") or argv[0] == b"epmd")


def _environ_has(pid: int, entry: bytes) -> bool:
    try:
        return entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


class EjabberdServer:
    """One ejabberd node run from `workdir` ({conf,ebin,spool,logs}) with settings from `env`.

    ``profile``: ``demo`` (ejabberd/ejabberd.yml) or ``production``
    (ejabberd/ejabberd.production.yml, which needs the TLS_FILES settings).
    """

    def __init__(self, workdir: Path, env: Mapping[str, str], profile: str = "demo") -> None:
        self.workdir = Path(workdir).resolve()
        self.profile = profile
        self.settings = xmpp_settings(env, profile)
        self.env: dict[str, str] = dict(env)
        self.conf_dir = self.workdir / "conf"
        self.ebin_dir = self.workdir / "ebin"
        self.spool_dir = self.workdir / "spool"
        self.logs_dir = self.workdir / "logs"
        self.node = f"idchat-{self.settings['IDCHAT_XMPP_C2S_PORT']}@localhost"
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        """Render the config, start the node, return once it serves c2s and components."""
        if self.is_running():
            raise EjabberdError(f"ejabberd node {self.node} is already running")
        busy = [p for p in self._ports() if _port_open(p)]
        if busy:
            raise EjabberdError(f"ports already in use on 127.0.0.1: {busy}")
        self._prepare_workdir()
        deadline = time.monotonic() + timeout
        # Our own child in `foreground-quiet` mode rather than `start`: a -detached
        # node is re-parented to PID 1, which in a container may never reap it
        # (a zombie after stop). "quiet": the log goes to logs/ejabberd.log only.
        # A session of its own, as Prosody's: stopped by stop() (ejabberdctl stop), not by
        # a signal to our group. (`su` starts the node itself in yet another session.)
        with open(self.logs_dir / "console.log", "ab") as console, launcher.spawning():
            self._process = subprocess.Popen(
                self._command("foreground-quiet"), cwd=self.spool_dir, stdin=subprocess.DEVNULL,
                stdout=console, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            launcher.register(self, self.stop)
        try:
            self._wait_started(deadline)
        except BaseException:
            self._kill()
            raise

    def stop(self, timeout: float = 30) -> None:
        """Stop the node (mnesia is flushed on the way out); kill it if it hangs. Then
        whatever is left: the launching ejabberdctl's process group, an epmd of ours."""
        if self.is_running():
            try:
                self._ejabberdctl("stop", timeout=timeout)
            except EjabberdError:
                pass  # the node does not answer: killed below
            deadline = time.monotonic() + timeout
            while self.is_running() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.is_running():
                self._kill()
        if self._process is not None:
            launcher.terminate(self._process, group=True, timeout=5)
            self._process = None
        for pid in self.epmd_pids():
            os.kill(pid, signal.SIGTERM)
        launcher.unregister(self)

    def epmd_pids(self) -> set[int]:
        """Running epmd daemons started for this node. With ERL_DIST_PORT (our
        ejabberdctl.cfg) ejabberdctl starts none; should one run all the same, it is ours
        when its environment names our configuration (ejabberdctl exports
        EJABBERD_CONFIG_PATH): never another node's or the system's epmd."""
        mine = b"EJABBERD_CONFIG_PATH=" + str(self.conf_dir / "ejabberd.yml").encode()
        return {pid for pid in _epmd_pids() if _pid_alive(pid) and _environ_has(pid, mine)}

    def restart(self, timeout: float = 60) -> None:
        self.stop()
        self.start(timeout=timeout)

    def is_running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._find_beam() is not None  # e.g. started by an earlier launcher run

    # -- commands ----------------------------------------------------------

    def register(self, user: str, host: str, password: str) -> None:
        """Create an account (ejabberdctl register); raise if ejabberd refuses."""
        result = self._ejabberdctl("register", user, host, password)
        if result.returncode != 0:
            raise EjabberdError(f"register {user}@{host} failed: {result.stdout.strip()}")

    def status(self) -> subprocess.CompletedProcess[str]:
        return self._ejabberdctl("status")

    def log_tail(self, lines: int = 40) -> str:
        tails = []
        for log in sorted(self.logs_dir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(tails) or f"(no logs in {self.logs_dir})"

    # -- internals ---------------------------------------------------------

    def _ports(self) -> list[int]:
        return [int(str(self.settings[name])) for name in PORT_DEFAULTS]

    def _prepare_workdir(self) -> None:
        owner = pwd.getpwnam(SERVICE_USER)
        self._check_reachable(owner)
        for path in (self.workdir, self.conf_dir, self.ebin_dir, self.spool_dir, self.logs_dir):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        for beam in compile_module(self.ebin_dir):
            if os.geteuid() == 0:
                os.chown(beam, owner.pw_uid, owner.pw_gid)
        values = {
            **self.settings,
            "ERLANG_NODE": self.node,
            "ERL_DIST_PORT": free_port(),
            "EJABBERD_PID_PATH": str(self.spool_dir / "ejabberd.pid"),
            "IDCHAT_EJABBERD_EBIN": str(self.ebin_dir),
            "IDCHAT_EJABBERD_AGENT_AUTH": agent_auth(self.env, self.conf_dir),
        }
        jwk = self.conf_dir / CREDENTIAL_JWK
        if jwk.exists() and os.geteuid() == 0:
            os.chown(jwk, owner.pw_uid, owner.pw_gid)
        templates = (("ejabberd.yml", PROFILES[self.profile], _yaml_scalar), *_TEMPLATES)
        for name, source, quote in templates:
            target = self.conf_dir / name
            target.write_text(render((TEMPLATE_DIR / source).read_text(), values, quote))
            target.chmod(0o600)  # holds the component secret
            if os.geteuid() == 0:
                os.chown(target, owner.pw_uid, owner.pw_gid)

    def _check_reachable(self, owner: pwd.struct_passwd) -> None:
        """The node runs as `ejabberd`: every parent of workdir must let it through."""
        for parent in self.workdir.parents:
            if not parent.exists():
                continue  # mkdir will create it searchable (0755 under the usual umask)
            info = parent.stat()
            if info.st_uid == owner.pw_uid or info.st_mode & stat.S_IXOTH:
                continue
            if info.st_gid == owner.pw_gid and info.st_mode & stat.S_IXGRP:
                continue
            raise EjabberdError(
                f"user {SERVICE_USER} cannot reach {self.workdir}: {parent} is not "
                "searchable by it (use a folder under /tmp or /srv, not a 0700 home)"
            )

    def _command(self, *args: str) -> list[str]:
        if shutil.which(EJABBERDCTL) is None:
            raise EjabberdError(f"{EJABBERDCTL} not found: install the ejabberd package")
        return [
            EJABBERDCTL,
            "--config-dir", str(self.conf_dir),
            "--spool", str(self.spool_dir),
            "--logs", str(self.logs_dir),
            *args,
        ]  # fmt: skip

    def _ejabberdctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        try:
            # In a session of its own: a signal to our group cannot kill it halfway (e.g.
            # the `stop` of the cleanup); on timeout its whole group is stopped.
            return launcher.run(
                self._command(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise EjabberdError(f"ejabberdctl {args[0]} did not finish in {timeout}s") from exc

    def _wait_started(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if not self.is_running():
                raise EjabberdError(f"ejabberd exited during start-up:\n{self.log_tail()}")
            if all(_port_open(port) for port in self._ports()):
                status = self.status()
                if status.returncode == 0:
                    return
            time.sleep(0.1)
        raise EjabberdError(
            f"ejabberd did not come up within the timeout (node {self.node}):\n{self.log_tail()}"
        )

    def _find_beam(self) -> int | None:
        named = {(b"-sname", self.node.encode()), (b"-name", self.node.encode())}
        pids = _pids(lambda argv: b"beam" in argv[0] and bool(named & set(zip(argv, argv[1:]))))
        return min(pids) if pids else None  # ctl clients carry the node name after -extra

    def _kill(self) -> None:
        """SIGKILL the node: its beam found by node name, then our ejabberdctl child's group."""
        pid = self._find_beam()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        if self._process is not None:
            launcher.terminate(self._process, group=True, timeout=0)
            self._process = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--workdir", type=Path, help="run folder (conf, spool, logs)")
    where.add_argument("--render-to", type=Path, metavar="DIR",
                       help="only write DIR/ejabberd.yml from the environment, then exit (docker-compose.yml)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="demo",
                        help="demo (the default; tests, make demo) or production (TLS required on "
                             "c2s: needs IDCHAT_XMPP_TLS_CERT_FILE and IDCHAT_XMPP_TLS_KEY_FILE)")
    args = parser.parse_args(argv)
    if args.render_to is not None:
        try:
            print(render_config(args.render_to, os.environ, args.profile))
        except (EjabberdError, OSError) as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    # Even if started with SIGINT ignored; a second signal must not cut the cleanup short.
    launcher.install_stop_handlers()
    started = time.monotonic()
    try:
        server = EjabberdServer(args.workdir, os.environ, args.profile)
        server.start()
    except EjabberdError as exc:
        print(exc, file=sys.stderr)
        launcher.stop_all()
        return 1
    except KeyboardInterrupt:
        launcher.stop_all()
        return 0
    s = server.settings
    print(
        f"ejabberd {server.node} ({server.profile} profile) up in {time.monotonic() - started:.1f}s\n"
        f"  c2s        127.0.0.1:{s['IDCHAT_XMPP_C2S_PORT']}  "
        f"(agents: {s['IDCHAT_XMPP_AGENT_DOMAIN']}, guests: {s['IDCHAT_XMPP_GUEST_DOMAIN']})\n"
        f"  component  127.0.0.1:{s['IDCHAT_XMPP_COMPONENT_PORT']}  "
        f"({s['IDCHAT_XMPP_COMPONENT_DOMAIN']}, rooms: {s['IDCHAT_XMPP_MUC_DOMAIN']})\n"
        f"  websocket  ws://127.0.0.1:{s['IDCHAT_XMPP_HTTP_PORT']}/xmpp-websocket\n"
        f"  logs       {server.logs_dir}\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        while server.is_running():
            time.sleep(1)
        print("ejabberd exited on its own:\n" + server.log_tail(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        launcher.stop_all()


if __name__ == "__main__":
    sys.exit(main())
