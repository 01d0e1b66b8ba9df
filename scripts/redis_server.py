"""Run a private Redis from a project folder: loopback only, nothing written to disk;
the Redis ACL of ID Chat, one user per process role (docs/deployment.md, "Redis");
and Redis high availability: a primary, a replica and three Sentinels, each with its
ACL (docs/deployment.md, "Redis high availability: Sentinel").

    python scripts/redis_server.py --render-acl --prefix idchat \
        --password-file idchat-http=/etc/idchat/redis-http.password \
        --password-file idchat-component=/etc/idchat/redis-component.password > redis.acl

With Sentinel, the data nodes' ACL also holds the replication and Sentinel users
(give their password files too), and the Sentinels get an ACL of their own:

    python scripts/redis_server.py --render-acl --prefix idchat \
        --password-file idchat-http=... --password-file idchat-component=... \
        --password-file idchat-replica=... --password-file idchat-sentinel=... > redis.acl
    python scripts/redis_server.py --render-sentinel-acl \
        --password-file idchat-http=... --password-file idchat-component=... \
        --password-file idchat-sentinel=... > sentinel.acl
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import launcher

HTTP_USER = "idchat-http"
COMPONENT_USER = "idchat-component"
REPLICA_USER = "idchat-replica"
SENTINEL_USER = "idchat-sentinel"
SERVICE = "idchat"  # redis.sentinel_service's default

# What a Sentinel needs on the data nodes (the Redis documentation's minimal set), and
# what a replica needs on its primary: replication only, no key.
HA_DATA_RULES = {
    REPLICA_USER: "+psync +replconf +ping",
    SENTINEL_USER: "allchannels +multi +slaveof +ping +exec +subscribe +config|rewrite +role "
                   "+publish +info +client|setname +client|kill +script|kill",
}
# On the Sentinels our processes may only ask where the primary is: never fail over,
# reconfigure (SENTINEL SET, MONITOR, REMOVE) or point anyone at another Redis.
DISCOVERY = ("+ping +hello +client|setname +sentinel|masters +sentinel|master "
             "+sentinel|get-master-addr-by-name +sentinel|slaves +sentinel|replicas "
             "+sentinel|sentinels")


def acl_rules(prefix: str) -> dict[str, str]:
    """What each process may do. The HTTP service reaches only the keys it uses (sessions,
    attribute URLs, accepted tokens, tickets, the events it adds, the component's liveness
    read-only) and no pub/sub channel; the component all of ID Chat's keys and channels.
    Neither may run the dangerous commands (KEYS, FLUSHALL, CONFIG, DEBUG, ACL, ...)."""
    p = prefix
    return {
        HTTP_USER: f"~{p}:session:* ~{p}:attrurl:* ~{p}:token:* ~{p}:ticket:* ~{p}:events "
                   f"~{p}:agentsession:* ~{p}:agentgrant:* "
                   f"%R~{p}:component:alive +@all -@dangerous",
        COMPONENT_USER: f"~{p}:* &{p}:* +@all -@dangerous",
    }


def sentinel_rules() -> dict[str, str]:
    """The Sentinels' own users: each other (``SENTINEL_USER``), and our two processes,
    which may only discover the primary."""
    return {SENTINEL_USER: "allchannels +@all", HTTP_USER: DISCOVERY, COMPONENT_USER: DISCOVERY}


def _users(rules: dict[str, str], passwords: dict[str, str]) -> str:
    lines = ["user default reset off"]
    for user, rule in rules.items():
        digest = hashlib.sha256(passwords[user].encode()).hexdigest()
        lines.append(f"user {user} reset on #{digest} {rule}")
    return "\n".join(lines) + "\n"


def acl_file(prefix: str, passwords: dict[str, str]) -> str:
    """A Redis ACL file (``aclfile``): ``default`` off, our users with SHA-256 password hashes
    (the file holds no password). The replication and Sentinel users are added when their
    passwords are given (Sentinel setups)."""
    rules = acl_rules(prefix)
    rules.update({user: rule for user, rule in HA_DATA_RULES.items() if user in passwords})
    return _users(rules, passwords)


def sentinel_acl_file(passwords: dict[str, str]) -> str:
    """The ACL file of every Sentinel: ``default`` off, peers and discovery only."""
    return _users(sentinel_rules(), passwords)


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


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


class _Process:
    """A server process of ours: stopped, killed, frozen and thawed by its id."""

    proc: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.send_signal(signal.SIGCONT)  # a frozen process acts on SIGTERM only then
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        launcher.unregister(self)

    def kill(self) -> None:
        """As by a power cut (SIGKILL)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def pause(self) -> None:
        """Frozen (SIGSTOP): connections stay open, nothing answers."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class RedisServer(_Process):
    """``acl``: the contents of an ACL file (:func:`acl_file`); without it, the ``default``
    user without a password (the demo and most tests). ``config``: more directives for the
    configuration file (it is private: secrets such as ``masterauth`` may go there)."""

    def __init__(self, workdir: Path, port: int | None = None, acl: str | None = None,
                 config: str = "") -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.acl = acl
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> "RedisServer":
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed (make setup installs it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Sessions are short-lived by design: no RDB snapshots, no AOF, nothing on disk.
        lines = [f"port {self.port}", "bind 127.0.0.1", 'save ""', "appendonly no",
                 f"dir {self.workdir}", f"logfile {self.workdir / 'redis.log'}",
                 "protected-mode yes"]
        if self.acl is not None:
            acl_path = self.workdir / "users.acl"
            _write_private(acl_path, self.acl)
            lines.append(f"aclfile {acl_path}")
        conf = self.workdir / "redis.conf"
        _write_private(conf, "\n".join(lines) + "\n" + self.config)
        # In our process group: a signal to the group (or its SIGKILL) ends it too.
        with launcher.spawning():  # registered before any stop signal can interrupt us
            self.proc = subprocess.Popen(["redis-server", str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            launcher.register(self, self.stop)
        wait_for_port(self.port, timeout, self.proc)
        return self

class Sentinel(_Process):
    """One ``redis-sentinel`` watching ``service``; its configuration file is its own
    (Sentinel rewrites it with what it learns: peers, replicas, the current primary)."""

    def __init__(self, workdir: Path, primary_port: int, passwords: dict[str, str], *,
                 service: str = SERVICE, quorum: int = 2, down_after_ms: int = 5000,
                 failover_timeout_ms: int = 60000, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.primary_port = primary_port
        self.passwords = passwords
        self.service = service
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> "Sentinel":
        if not shutil.which("redis-sentinel"):
            raise RuntimeError("redis-sentinel is not installed (make setup installs it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        acl = self.workdir / "sentinel.acl"
        _write_private(acl, sentinel_acl_file(self.passwords))
        s, secret = self.service, self.passwords[SENTINEL_USER]
        conf = self.workdir / "sentinel.conf"
        _write_private(conf, "\n".join([
            f"port {self.port}", "bind 127.0.0.1", "protected-mode yes", "daemonize no",
            f"dir {self.workdir}", f"logfile {self.workdir / 'sentinel.log'}", f"aclfile {acl}",
            # How this Sentinel logs in to the other Sentinels, and to the data nodes.
            f"sentinel sentinel-user {SENTINEL_USER}", f"sentinel sentinel-pass {secret}",
            f"sentinel monitor {s} 127.0.0.1 {self.primary_port} {self.quorum}",
            f"sentinel auth-user {s} {SENTINEL_USER}", f"sentinel auth-pass {s} {secret}",
            f"sentinel down-after-milliseconds {s} {self.down_after_ms}",
            f"sentinel failover-timeout {s} {self.failover_timeout_ms}",
            f"sentinel parallel-syncs {s} 1",
        ]) + "\n")
        with launcher.spawning():  # registered before any stop signal can interrupt us
            self.proc = subprocess.Popen(["redis-sentinel", str(conf)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            launcher.register(self, self.stop)
        wait_for_port(self.port, timeout, self.proc)
        return self


class RedisHA:
    """A primary, a replica and three Sentinels on loopback, every one with its ACL.

    ``passwords`` holds one for each of HTTP_USER, COMPONENT_USER, REPLICA_USER and
    SENTINEL_USER; ``extra_acl`` adds lines to the data nodes' ACL (a test's admin user).
    ``down_after_ms`` is how long the primary must be silent before the Sentinels fail
    it over (production: a few seconds; tests: one)."""

    def __init__(self, workdir: Path, passwords: dict[str, str], *, prefix: str = "idchat",
                 service: str = SERVICE, down_after_ms: int = 5000,
                 failover_timeout_ms: int = 60000, extra_acl: str = "") -> None:
        self.workdir = Path(workdir)
        self.passwords = passwords
        self.service = service
        self.prefix = prefix
        acl = acl_file(prefix, passwords) + extra_acl
        # Both data nodes log in to their primary as the replication user: either may
        # be a replica after a failover.
        auth = (f"masteruser {REPLICA_USER}\nmasterauth {passwords[REPLICA_USER]}\n"
                # One replica: no reason to wait for more before a full synchronisation.
                "repl-diskless-sync-delay 0\n")
        self.primary = RedisServer(self.workdir / "redis-a", acl=acl, config=auth)
        self.replica = RedisServer(self.workdir / "redis-b", acl=acl, config=auth +
                                   f"replicaof 127.0.0.1 {self.primary.port}\n")
        self.sentinels = [Sentinel(self.workdir / f"sentinel-{i}", self.primary.port, passwords,
                                   service=service, down_after_ms=down_after_ms,
                                   failover_timeout_ms=failover_timeout_ms)
                          for i in range(3)]

    @property
    def nodes(self) -> list[RedisServer]:
        return [self.primary, self.replica]

    @property
    def addresses(self) -> list[str]:
        """``redis.sentinels``."""
        return [s.address for s in self.sentinels]

    def start(self, timeout: float = 20) -> "RedisHA":
        try:
            self.primary.start()
            self.replica.start()
            for sentinel in self.sentinels:
                sentinel.start()
            self._wait_until_watched(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_watched(self, timeout: float) -> None:
        """Until the replica holds a copy and every Sentinel knows it and the two other
        Sentinels: only then can they agree on a failover that loses nothing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            views = [self._sentinel_view(s) for s in self.sentinels]
            if all(v == (1, 2) for v in views) and self.replica_in_sync():
                return
            time.sleep(0.2)
        raise TimeoutError(f"the Sentinels did not find each other and the replica within {timeout}s")

    def replica_in_sync(self) -> bool:
        info = _command(self.replica.port, SENTINEL_USER, self.passwords[SENTINEL_USER],
                        "INFO", "replication")
        return "master_link_status:up" in str(info)

    def _sentinel_view(self, sentinel: Sentinel) -> tuple[int, int]:
        answer = _command(sentinel.port, SENTINEL_USER, self.passwords[SENTINEL_USER],
                          "SENTINEL", "MASTER", self.service)
        fields = dict(zip(answer[::2], answer[1::2])) if isinstance(answer, list) else {}
        return int(fields.get("num-slaves", 0)), int(fields.get("num-other-sentinels", 0))

    def stop(self) -> None:
        for sentinel in self.sentinels:
            sentinel.stop()
        for node in self.nodes:
            node.stop()


def _command(port: int, user: str, password: str, *args: str) -> object:
    """One command over a raw socket (RESP2), for the set-up without a client library."""
    def encode(*parts: str) -> bytes:
        return b"".join([f"*{len(parts)}\r\n".encode()]
                        + [f"${len(p.encode())}\r\n{p}\r\n".encode() for p in parts])

    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(encode("AUTH", user, password) + encode(*args))
        reader = sock.makefile("rb")
        _read_reply(reader)
        return _read_reply(reader)


def _read_reply(reader: object) -> object:
    line = reader.readline().rstrip(b"\r\n")  # type: ignore[attr-defined]
    kind, rest = line[:1], line[1:].decode()
    if kind in (b"+", b"-"):
        return rest
    if kind == b":":
        return int(rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        data = reader.read(int(rest) + 2)  # type: ignore[attr-defined]
        return data[:-2].decode()
    if kind == b"*":
        return [_read_reply(reader) for _ in range(max(0, int(rest)))]
    raise ValueError(f"unexpected reply {line[:20]!r}")


def _read_passwords(password_files: list[str]) -> dict[str, str]:
    passwords = {}
    for item in password_files:
        user, _, path = item.partition("=")
        passwords[user] = Path(path).read_text().strip()
    return passwords


def _render_acl(prefix: str, password_files: list[str]) -> str:
    passwords = _read_passwords(password_files)
    missing = set(acl_rules(prefix)) - set(passwords)
    if missing:
        raise SystemExit(f"--password-file needed for {', '.join(sorted(missing))}")
    return acl_file(prefix, passwords)


def _render_sentinel_acl(password_files: list[str]) -> str:
    passwords = _read_passwords(password_files)
    missing = set(sentinel_rules()) - set(passwords)
    if missing:
        raise SystemExit(f"--password-file needed for {', '.join(sorted(missing))}")
    return sentinel_acl_file(passwords)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--render-acl", action="store_true",
                        help="print the data nodes' ACL file for the users' password files, and exit")
    parser.add_argument("--render-sentinel-acl", action="store_true",
                        help="print the Sentinels' ACL file, and exit")
    parser.add_argument("--prefix", default="idchat", help="redis.key_prefix (for --render-acl)")
    parser.add_argument("--password-file", action="append", default=[], metavar="USER=PATH")
    args = parser.parse_args()
    if args.render_acl:
        print(_render_acl(args.prefix, args.password_file), end="")
        raise SystemExit(0)
    if args.render_sentinel_acl:
        print(_render_sentinel_acl(args.password_file), end="")
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
