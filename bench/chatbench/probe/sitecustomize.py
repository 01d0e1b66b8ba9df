"""Benchmark only: counts what a process sends and receives: slixmpp stanzas, Redis requests.

The chat benchmark starts the component and the HTTP service with this folder on PYTHONPATH
and IDCHAT_BENCH_PROBE_FILE set; on SIGUSR2 the counts so far are written to that file as
one JSON object (written aside, then renamed):

* ``seq``: how many times the counts were written (a reader waits for a higher one);
* ``stanzas``: ``{"in": n, "out": n}``, only with IDCHAT_BENCH_PROBE_STANZAS=1 (the
  component): top-level message, presence and IQ stanzas (not stream features, SASL or the
  handshake) that slixmpp received and sent;
* ``redis``: what the process's redis-py asyncio clients sent. ``requests``, per name: the
  round trips, a command on its own under its own name (``evalsha`` for a Lua script), a
  pipeline under ``pipeline``, a transaction under ``multi/exec``; ``commands``, per name:
  every command sent, a pipeline's and a transaction's contents counted one by one (with
  the transaction's ``multi`` and ``exec``). Publish/subscribe connections (PubSub) are not
  counted. Redis's own ``INFO commandstats`` counts more: every ``redis.call`` a Lua script
  makes inside Redis counts there as a command too.

Nothing else changes: without the variable this file does nothing, and a failure here
never stops the process.
"""

import os

_PATH = os.environ.get("IDCHAT_BENCH_PROBE_FILE")


def count_stanzas() -> dict[str, int]:
    """Count from now on, in this process; the returned dict holds the counts ("in", "out")."""
    from slixmpp.xmlstream.xmlstream import XMLStream

    counts = {"in": 0, "out": 0}
    kinds = ("message", "presence", "iq")
    send, recv = XMLStream.send, XMLStream.recv_stanza

    def counting_send(self, data, use_filters=True):  # type: ignore[no-untyped-def]
        if getattr(data, "name", None) in kinds:
            counts["out"] += 1
        return send(self, data, use_filters)

    def counting_recv(self, stanza):  # type: ignore[no-untyped-def]
        if getattr(stanza, "name", None) in kinds:
            counts["in"] += 1
        return recv(self, stanza)

    XMLStream.send = counting_send  # type: ignore[method-assign]
    XMLStream.recv_stanza = counting_recv  # type: ignore[method-assign]
    return counts


def _name(args) -> str:  # type: ignore[no-untyped-def]
    """A command's name as Redis's INFO commandstats spells it: lower case, a subcommand
    after a bar (``script|load``)."""
    first = args[0] if args else "?"
    if isinstance(first, bytes):
        first = first.decode("ascii", "replace")
    return str(first).lower().replace(" ", "|")


def count_redis() -> dict[str, dict[str, int]]:
    """Count the requests and commands of redis-py's asyncio clients from now on."""
    from redis.asyncio.client import Pipeline, Redis

    counts: dict[str, dict[str, int]] = {"requests": {}, "commands": {}}
    requests, commands = counts["requests"], counts["commands"]

    def add(table: dict[str, int], name: str, n: int = 1) -> None:
        table[name] = table.get(name, 0) + n

    execute_command = Redis.execute_command
    immediate = Pipeline.immediate_execute_command
    execute = Pipeline.execute

    async def counting_execute_command(self, *args, **options):  # type: ignore[no-untyped-def]
        # A Pipeline has an execute_command of its own (it queues): this is one round trip.
        name = _name(args)
        add(requests, name)
        add(commands, name)
        return await execute_command(self, *args, **options)

    async def counting_immediate(self, *args, **options):  # type: ignore[no-untyped-def]
        # WATCH and what follows it before MULTI, and the pipeline's SCRIPT EXISTS / LOAD.
        name = _name(args)
        add(requests, name)
        add(commands, name)
        return await immediate(self, *args, **options)

    async def counting_execute(self, raise_on_error=True):  # type: ignore[no-untyped-def]
        stack = list(self.command_stack)
        transaction = self.is_transaction or self.explicit_transaction
        if stack or self.watching:  # else redis-py sends nothing
            add(requests, "multi/exec" if transaction else "pipeline")
            for args, _options in stack:
                add(commands, _name(args))
            if transaction:
                add(commands, "multi")
                add(commands, "exec")
        return await execute(self, raise_on_error)

    Redis.execute_command = counting_execute_command
    Pipeline.immediate_execute_command = counting_immediate
    Pipeline.execute = counting_execute
    return counts


def _install(path: str) -> None:
    import json
    import signal

    stanzas = count_stanzas() if os.environ.get("IDCHAT_BENCH_PROBE_STANZAS") == "1" else None
    redis = count_redis()
    seq = [0]

    def dump(_signum, _frame):  # type: ignore[no-untyped-def]
        seq[0] += 1
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"seq": seq[0], "stanzas": stanzas, "redis": redis}, f)
        os.replace(tmp, path)

    signal.signal(signal.SIGUSR2, dump)
    dump(0, None)  # type: ignore[no-untyped-call] # the file exists: the handler is there (an unhandled SIGUSR2 would kill)


if _PATH:
    try:
        _install(_PATH)
    except Exception as exc:  # noqa: BLE001 - a benchmark probe must not break the process
        import sys
        print(f"benchmark probe not installed: {exc}", file=sys.stderr)
