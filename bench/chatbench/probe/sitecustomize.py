"""Benchmark only: counts the stanzas a process sends and receives through slixmpp.

The chat benchmark starts the component with this folder on PYTHONPATH and
IDCHAT_BENCH_STANZA_FILE set; on SIGUSR2 the counts so far are written to that file as
``<sequence> <in> <out>`` (written aside, then renamed). Only top-level message, presence
and IQ stanzas count (not stream features, SASL or the handshake). Nothing else changes:
without the variable this file does nothing, and a failure here never stops the process.
"""

import os

_PATH = os.environ.get("IDCHAT_BENCH_STANZA_FILE")


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


def _install(path: str) -> None:
    import signal

    counts = count_stanzas()
    seq = [0]

    def dump(_signum, _frame):  # type: ignore[no-untyped-def]
        seq[0] += 1
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{seq[0]} {counts['in']} {counts['out']}\n")
        os.replace(tmp, path)

    signal.signal(signal.SIGUSR2, dump)
    dump(0, None)  # type: ignore[no-untyped-call] # the file exists: the handler is there (an unhandled SIGUSR2 would kill)


if _PATH:
    try:
        _install(_PATH)
    except Exception as exc:  # noqa: BLE001 - a benchmark probe must not break the process
        import sys
        print(f"stanza probe not installed: {exc}", file=sys.stderr)
