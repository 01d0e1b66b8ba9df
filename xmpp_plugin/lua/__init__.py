"""The Lua scripts of both processes, one ``<name>.lua`` file each in this folder.

Each file opens with a header naming its ``KEYS[n]`` and ``ARGV[n]`` and what it returns
(tests/unit/test_lua.py holds them to their bodies). A file is read once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

FOLDER = Path(__file__).parent


@functools.cache
def source(name: str) -> str:
    """The text of script ``name`` (``<name>.lua`` in this folder), read once."""
    return (FOLDER / f"{name}.lua").read_text(encoding="utf-8")


def script(client: aioredis.Redis, name: str) -> AsyncScript:
    """Script ``name`` registered on ``client``: through ``client.register_script``, so a
    Sentinel-watched client's scripts are confirmed by its replica (store.connect)."""
    return client.register_script(source(name))
