"""The Lua scripts (xmpp_plugin/lua/): each file's header names every KEYS[n] and ARGV[n]
its body uses, and what it returns; every file is used by the code, every name the code
asks for is a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xmpp_plugin import lua

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(lua.FOLDER.glob("*.lua"))
# A header line: "-- KEYS[3] name ..." or "-- ARGV[12..] name ..." (from 12 on, any number).
DECLARED = re.compile(r"^-- (KEYS|ARGV)\[(\d+)(\.\.)?\]")
USED = re.compile(r"\b(KEYS|ARGV)\[(\d+)\]")
# The body reaching past the fixed indices: #ARGV, unpack(ARGV), ARGV[i] with a variable.
VARIADIC = re.compile(r"#(KEYS|ARGV)\b|unpack\((KEYS|ARGV)\)|\b(KEYS|ARGV)\[[a-z_]")


def split(text: str) -> tuple[list[str], str]:
    """(the header's lines, the body): the header is the file's opening comment block."""
    lines = text.splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if not line.startswith("--"))
    return [line.rstrip("\n") for line in lines[:n]], "".join(lines[n:])


def declared(header: list[str]) -> dict[str, tuple[list[int], int | None]]:
    """KEYS/ARGV -> (fixed indices in header order, the first index of a variadic tail)."""
    out: dict[str, tuple[list[int], int | None]] = {"KEYS": ([], None), "ARGV": ([], None)}
    for line in header:
        m = DECLARED.match(line)
        if m:
            fixed, tail = out[m[1]]
            out[m[1]] = (fixed, int(m[2])) if m[3] else (fixed + [int(m[2])], tail)
    return out


def used(body: str) -> dict[str, tuple[int, bool]]:
    """KEYS/ARGV -> (the highest literal index in the body, whether it reaches past it)."""
    code = "\n".join(line.split("--", 1)[0] for line in body.splitlines())
    out = {}
    for name in ("KEYS", "ARGV"):
        top = max((int(m[2]) for m in USED.finditer(code) if m[1] == name), default=0)
        out[name] = (top, any(name in m.groups() for m in VARIADIC.finditer(code)))
    return out


def test_the_scripts_are_there() -> None:
    # Positive control for the checks below: they see the scripts and parse their headers.
    assert len(FILES) >= 20
    header, body = split(lua.source("routing_touch"))
    assert declared(header) == {"KEYS": ([1, 2], None), "ARGV": ([1, 2, 3, 4], None)}
    assert used(body) == {"KEYS": (2, False), "ARGV": (4, False)}
    header, body = split(lua.source("routing_dispatch"))
    assert declared(header)["ARGV"] == (list(range(1, 15)), 15)
    assert used(body)["ARGV"] == (14, True) and used(body)["KEYS"] == (0, False)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_script_declares_exactly_the_keys_and_argv_it_uses(path: Path) -> None:
    header, body = split(path.read_text(encoding="utf-8"))
    assert header and body.strip(), "a header comment, then the script"
    assert any(line.startswith("-- Returns") for line in header), "the header says what it returns"
    decl, use = declared(header), used(body)
    for name in ("KEYS", "ARGV"):
        fixed, tail = decl[name]
        top, variadic = use[name]
        assert fixed == list(range(1, len(fixed) + 1)), f"{name} declared in order, none missing"
        assert len(fixed) == top, f"{name}: header declares {len(fixed)}, the body uses {top}"
        assert (tail is not None) == variadic, f"{name}: a variadic tail iff the body reads one"
        assert tail is None or tail == top + 1
    if not decl["KEYS"][0]:
        assert any(line.startswith("-- KEYS: none") for line in header)


def test_every_script_is_used_and_every_used_script_exists() -> None:
    asked = set()
    for source in [*ROOT.glob("xmpp_plugin/**/*.py"), *ROOT.glob("component/**/*.py")]:
        asked |= set(re.findall(r'lua\.script\(\w+, "(\w+)"\)', source.read_text(encoding="utf-8")))
    assert "routing_dispatch" in asked  # the scan sees the call sites
    assert asked == {p.stem for p in FILES}
