"""What an XMPP server left on disk, searched with a positive control.

A scan that finds nothing proves nothing unless it can find something: each scan here is
handed markers that were planted where the server writes (a roster item an agent saved,
an account registered with the server's own tool) and fails when it does not find every
one of them, or when it read no file at all. Only then does "the secret is nowhere"
mean something. File names are searched as well as contents (Prosody names its files
after users and rooms).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

from slixmpp import JID, ClientXMPP


def marker() -> str:
    """A fresh, unguessable marker; letters and digits only, so no file-name escaping hides it."""
    return "planted" + secrets.token_hex(8)


async def plant_in_roster(agent: ClientXMPP) -> str:
    """A marker the server stores while it runs: a roster item the agent saves (both servers
    keep rosters of the agent host on disk). Returns the marker."""
    planted = marker()
    await agent.update_roster(JID(f"{planted}@{agent.boundjid.domain}"), name=planted, timeout=5)
    return planted


def plant_account(server: object, domain: str) -> str:
    """A marker the server writes through its own tool: an account named after it
    (``prosodyctl register`` / ``ejabberdctl register``). Returns the marker."""
    planted = marker()
    server.register(planted, domain, secrets.token_urlsafe(12))  # type: ignore[attr-defined]
    return planted


def assert_nothing_on_disk(root: Path, needles: Iterable[str], planted: Iterable[str],
                           *, expect_files: Iterable[str] = ()) -> int:
    """No needle under ``root``, in a file name or a file, while every planted marker is
    found and each file named in ``expect_files`` (e.g. the server's log) was read.
    Returns the number of files read."""
    wanted, controls, expected = list(needles), list(planted), set(expect_files)
    assert controls, "a scan without a planted marker proves nothing"
    found: dict[str, list[str]] = {needle: [] for needle in wanted + controls}
    names: set[str] = set()
    files = 0
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file():
            continue
        files += 1
        names.add(path.name)
        relative = str(path.relative_to(root))
        content = path.read_bytes()
        for needle in found:
            if needle in relative or needle.encode() in content:
                found[needle].append(relative)
    assert files, f"no file under {root}: the scan looks in the wrong place"
    assert expected <= names, f"{sorted(expected - names)} not found under {root}"
    blind = [needle for needle in controls if not found[needle]]
    assert not blind, (f"planted markers {blind} not found in {files} files under {root}: "
                       "this scan cannot see what the server writes")
    leaked = {needle: found[needle] for needle in wanted if found[needle]}
    assert not leaked, f"found on disk: {leaked}"
    return files
