"""Run a private Redis from a project folder: loopback only, nothing written to disk;
and the Redis ACL of ID Chat, one user per process role (docs/deployment.md, "Redis").

    python scripts/redis_server.py --render-acl --prefix idchat \
        --password-file idchat-http=/etc/idchat/redis-http.password \
        --password-file idchat-component=/etc/idchat/redis-component.password > redis.acl
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launcher  # noqa: E402


HTTP_USER = "idchat-http"
COMPONENT_USER = "idchat-component"


def acl_rules(prefix: str) -> dict[str, str]:
    """What each process may do. The HTTP service reaches only the keys it uses (sessions,
    attribute URLs, accepted tokens, tickets, the events it adds, the component's liveness
    read-only) and no pub/sub channel; the component all of ID Chat's keys and channels.
    Neither may run the dangerous commands (KEYS, FLUSHALL, CONFIG, DEBUG, ACL, ...)."""
    p = prefix
    return {
        HTTP_USER: f"~{p}:session:* ~{p}:attrurl:* ~{p}:token:* ~{p}:ticket:* ~{p}:events "
                   f"%R~{p}:component:alive +@all -@dangerous",
        COMPONENT_USER: f"~{p}:* &{p}:* +@all -@dangerous",
    }


def acl_file(prefix: str, passwords: dict[str, str]) -> str:
    """A Redis ACL file (``aclfile``): ``default`` off, our users with SHA-256 password hashes
    (the file holds no password)."""
    lines = ["user default reset off"]
    for user, rules in acl_rules(prefix).items():
        digest = hashlib.sha256(passwords[user].encode()).hexdigest()
        lines.append(f"user {user} reset on #{digest} {rules}")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open within {timeout}s")


class RedisServer:
    """``acl``: the contents of an ACL file (:func:`acl_file`); without it, the ``default``
    user without a password (the demo and most tests)."""

    def __init__(self, workdir: Path, port: int | None = None, acl: str | None = None) -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.acl = acl
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "RedisServer":
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed (make setup installs it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Sessions are short-lived by design: no RDB snapshots, no AOF, nothing on disk.
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                   "--logfile", str(self.workdir / "redis.log"), "--protected-mode", "yes"]
        if self.acl is not None:
            acl_path = self.workdir / "users.acl"
            acl_path.touch(mode=0o600)
            acl_path.write_text(self.acl)
            command += ["--aclfile", str(acl_path)]
        # In our process group: a signal to the group (or its SIGKILL) ends it too.
        with launcher.spawning():  # registered before any stop signal can interrupt us
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            launcher.register(self, self.stop)
        wait_for_port(self.port, timeout, self.proc)
        return self

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 10 s."""
        if self.proc is not None:
            launcher.terminate(self.proc, group=False, timeout=10)
        self.proc = None
        launcher.unregister(self)

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _render_acl(prefix: str, password_files: list[str]) -> str:
    passwords = {}
    for item in password_files:
        user, _, path = item.partition("=")
        passwords[user] = Path(path).read_text().strip()
    missing = set(acl_rules(prefix)) - set(passwords)
    if missing:
        raise SystemExit(f"--password-file needed for {', '.join(sorted(missing))}")
    return acl_file(prefix, passwords)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--render-acl", action="store_true",
                        help="print the ACL file for the users' password files, and exit")
    parser.add_argument("--prefix", default="idchat", help="redis.key_prefix (for --render-acl)")
    parser.add_argument("--password-file", action="append", default=[], metavar="USER=PATH")
    args = parser.parse_args()
    if args.render_acl:
        print(_render_acl(args.prefix, args.password_file), end="")
        raise SystemExit(0)
    if args.workdir is None:
        parser.error("--workdir is required to run a Redis")
    launcher.install_stop_handlers()
    try:
        server = RedisServer(args.workdir, args.port).start()
        print(f"Redis on {server.url}; Ctrl-C stops it", flush=True)
        assert server.proc is not None
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        launcher.stop_all()
