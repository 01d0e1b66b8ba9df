"""Run the project's Prosody configuration from a working folder.

The configuration reads every setting from the environment; this module
supplies that environment, starts Prosody in the foreground as a child
process, waits until its ports accept connections, and stops it again. Two
profiles: ``demo`` (``prosody/prosody.cfg.lua``, the demo and the tests) and
``production`` (``prosody/prosody.production.cfg.lua``: TLS required, never
root). Used by the integration tests and the demo::

    python scripts/prosody_server.py --workdir /tmp/idchat-prosody [--profile production]

runs Prosody until Ctrl-C, with the ``IDCHAT_*`` variables of the calling
shell (``IDCHAT_XMPP_COMPONENT_SECRET`` is required; production also needs
``IDCHAT_XMPP_TLS_CERT_FILE`` and ``IDCHAT_XMPP_TLS_KEY_FILE``). Started as
root, the production profile runs Prosody as the ``prosody`` user.

Standard library only.
"""

from __future__ import annotations

import argparse
import os
import pwd
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, Mapping

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launcher

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_ROOT / "prosody" / "prosody.cfg.lua"
PROFILES = {
    "demo": CONFIG_PATH,
    "production": PROJECT_ROOT / "prosody" / "prosody.production.cfg.lua",
}
SERVICE_USER = "prosody"  # created by Debian's prosody package

# Defaults must match those in common.cfg.lua.
DEFAULT_C2S_PORT = 15222
DEFAULT_COMPONENT_PORT = 15347
DEFAULT_HTTP_PORT = 15280

# Variables taken over from the caller's environment besides the given env;
# everything else is left out so stray IDCHAT_* settings cannot leak in.
_PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME")


class ProsodyError(RuntimeError):
    """Prosody failed to start, died, or a prosodyctl command failed."""


class ProsodyServer:
    """One Prosody instance with its data, pid file and logs under ``workdir/data``.

    ``env`` holds the ``IDCHAT_*`` settings read by the configuration;
    ``IDCHAT_PROSODY_DATA_DIR`` is always set to ``workdir/data``. ``profile``
    picks the configuration file (``demo`` or ``production``). ``user``: the
    account Prosody runs as when started as root; by default ``prosody`` for
    the production profile (which refuses root) and root itself for the demo.
    """

    def __init__(self, workdir: Path, env: Mapping[str, str], profile: str = "demo",
                 user: str | None = None) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; one of {sorted(PROFILES)}")
        self.workdir = Path(workdir).resolve()
        self.data_dir = self.workdir / "data"
        self.profile = profile
        self.config_path = PROFILES[profile]
        if user is None and profile == "production" and os.geteuid() == 0:
            user = SERVICE_USER
        self.user = None if user in (None, "root") or os.geteuid() != 0 else user
        self.stdout_path = self.workdir / "prosody.stdout"
        self.env: dict[str, str] = {
            name: os.environ[name] for name in _PASSTHROUGH_ENV if name in os.environ
        }
        self.env.update(env)
        self.env["IDCHAT_PROSODY_DATA_DIR"] = str(self.data_dir)
        self.c2s_port = self._port("IDCHAT_XMPP_C2S_PORT", DEFAULT_C2S_PORT)
        self.component_port = self._port("IDCHAT_XMPP_COMPONENT_PORT", DEFAULT_COMPONENT_PORT)
        self.http_port = self._port("IDCHAT_XMPP_HTTP_PORT", DEFAULT_HTTP_PORT)
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None

    def _port(self, name: str, default: int) -> int:
        value = self.env.get(name)
        return int(value) if value else default

    @property
    def ports(self) -> tuple[int, ...]:
        """The TCP ports Prosody listens on (c2s, component, HTTP)."""
        return (self.c2s_port, self.component_port, self.http_port)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 15) -> None:
        """Start Prosody and wait until its ports accept connections."""
        if self.is_running():
            raise ProsodyError("Prosody is already running")
        for port in self.ports:
            if _port_open(port):
                raise ProsodyError(f"port {port} on 127.0.0.1 is already in use")
        # The certificate folder named in the demo config must exist, or
        # Prosody logs an error at every start.
        (self.data_dir / "certs").mkdir(parents=True, exist_ok=True)
        self._hand_over()
        self._stdout = open(self.stdout_path, "ab")
        with launcher.spawning():  # registered before any stop signal can interrupt us
            self._process = subprocess.Popen(
                ["prosody", "--config", str(self.config_path), "-F"],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._stdout,
                stderr=subprocess.STDOUT,
                # Ctrl-C in the demo reaches us, not Prosody: we stop it after the
                # component, which ends its rooms first. So no signal sent to our group
                # stops it: only stop() (or, as the last resort, launcher.stop_all()).
                start_new_session=True,
                **self._as_user(),
            )
            launcher.register(self, self.stop)
        deadline = time.monotonic() + timeout
        waiting = list(self.ports)
        while waiting:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._cleanup()
                raise ProsodyError(f"Prosody exited with code {code}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ProsodyError(
                    f"Prosody did not open port(s) {waiting} within {timeout} s:\n{self.log_tail()}"
                )
            waiting = [port for port in waiting if not _port_open(port)]
            if waiting:
                time.sleep(0.05)

    def stop(self, timeout: float = 10) -> None:
        """Stop Prosody (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        process = self._process
        if process is None:
            return
        # Its whole process group (its session): SIGTERM, then SIGKILL for what is left.
        launcher.terminate(process, group=True, timeout=timeout)
        self._cleanup()

    def restart(self, timeout: float = 15) -> None:
        self.stop()
        self.start(timeout=timeout)

    def register(self, user: str, host: str, password: str) -> None:
        """Create (or reset) an account with ``prosodyctl register``.

        The password goes to prosodyctl's prompt on stdin, not on the command
        line, so it does not show up in the process list.
        """
        if "\n" in password or "\r" in password or not password:
            raise ValueError("password must be a non-empty single line")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._hand_over()
        result = launcher.run(
            ["prosodyctl", "--config", str(self.config_path), "register", user, host],
            cwd=self.workdir,
            env=self.env,
            input=f"{password}\n{password}\n".encode(),
            capture_output=True,
            timeout=30,
            **self._as_user(),
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise ProsodyError(f"prosodyctl register {user} {host} failed:\n{output}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of Prosody's stdout and log files, for error messages."""
        parts = []
        for path in (self.stdout_path, self.data_dir / "prosody.log", self.data_dir / "prosody.err"):
            try:
                text = path.read_text(errors="replace")
            except FileNotFoundError:
                continue
            tail = "\n".join(text.splitlines()[-lines:])
            if tail:
                parts.append(f"--- {path.name} ---\n{tail}")
        return "\n".join(parts) or "(no output)"

    def _as_user(self) -> dict[str, Any]:
        """Popen arguments that start the process as ``self.user`` (nothing when unset)."""
        if self.user is None:
            return {}
        account = pwd.getpwnam(self.user)
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _hand_over(self) -> None:
        """Give the run folder to ``self.user``, who must be able to reach it."""
        if self.user is None:
            return
        account = pwd.getpwnam(self.user)
        for parent in self.workdir.parents:
            info = parent.stat()
            if not (info.st_uid == account.pw_uid or info.st_mode & stat.S_IXOTH):
                raise ProsodyError(
                    f"user {self.user} cannot reach {self.workdir}: {parent} is not searchable "
                    "by it (use a folder under /tmp or /srv, not a 0700 home)")
        for path in (self.workdir, self.data_dir, *self.data_dir.rglob("*")):
            os.chown(path, account.pw_uid, account.pw_gid)

    def _cleanup(self) -> None:
        launcher.unregister(self)
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None
        self._process = None

    def __enter__(self) -> ProsodyServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run Prosody with the ID Chat configuration in the foreground "
        "(settings from the IDCHAT_* environment variables)."
    )
    parser.add_argument("--workdir", type=Path, required=True,
                        help="folder for Prosody's data, pid file and logs")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="demo",
                        help="demo (the default; tests, make demo) or production "
                             "(TLS required, never root: needs IDCHAT_XMPP_TLS_CERT_FILE "
                             "and IDCHAT_XMPP_TLS_KEY_FILE)")
    args = parser.parse_args(argv)
    # Explicit handlers: SIGINT is ignored in processes started in the background by a
    # non-interactive shell, so Python's KeyboardInterrupt would never come; and a second
    # signal must not cut the cleanup short.
    launcher.install_stop_handlers()
    env = {name: value for name, value in os.environ.items() if name.startswith("IDCHAT_")}
    if not env.get("IDCHAT_XMPP_COMPONENT_SECRET"):
        print("IDCHAT_XMPP_COMPONENT_SECRET must be set", file=sys.stderr)
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    server = ProsodyServer(args.workdir, env, profile=args.profile)
    try:
        server.start()
    except ProsodyError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        launcher.stop_all()
        return 0
    print(f"Prosody ({server.profile} profile) running (pid {server.pid}), c2s {server.c2s_port}, "
          f"component {server.component_port}, http {server.http_port}; "
          f"logs in {server.data_dir}. Ctrl-C to stop.", flush=True)
    try:
        while server.is_running():
            time.sleep(0.5)
        print(f"Prosody exited:\n{server.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        launcher.stop_all()
        print("Prosody stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
