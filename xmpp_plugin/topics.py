"""The municipality's topics: labels (nl, en), shown attributes, opening hours, alternatives
and canned replies, from a TOML file (``topics.file``; xmpp_plugin/topics.toml by default).

The file is read and checked once per process, at start-up (:func:`check`, from
settings.py): every problem is reported with where it is. A purpose the core sends that the
file does not know is still served under its tag (:meth:`Catalogue.label`).
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from .hours import DAYS, Hours, parse_window, zone

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("topics.toml")
LANGUAGES = ("nl", "en")
PLACEHOLDERS = ("agent", "topic")  # the only ones: never an attribute value (docs/deployment.md)
# The replies travel in one IQ result (docs/protocol.md §3a): kept well below the XMPP
# servers' stanza limits (IDCHAT_LIMITS_MAX_STANZA_BYTES, 64 KiB by default).
MAX_REPLIES = 100
MAX_REPLY_CHARS = 1000
MAX_REPLIES_CHARS = 30000
MAX_WARNED = 100
TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Reply:
    """A canned reply: the agent types ``/<key>``; ``purpose`` is empty for every topic."""

    key: str
    lang: str
    text: str
    purpose: str = ""


@dataclass(frozen=True)
class Topic:
    purpose: str
    labels: Mapping[str, str]
    attributes: tuple[str, ...] | None = None  # None: every attribute the login gave
    hours: Hours = Hours()
    alternative: Mapping[str, str] | None = None  # None: routing.alternative_nl / _en


@dataclass(frozen=True)
class Catalogue:
    topics: Mapping[str, Topic]
    attributes: Mapping[str, Mapping[str, str]]  # name → {nl, en}, in the file's order
    replies: tuple[Reply, ...] = ()
    _warned: set[str] = field(default_factory=set, compare=False, repr=False)

    @property
    def purposes(self) -> dict[str, Mapping[str, str]]:
        """Tag → {nl, en}, in the file's order (the simulator's list, the console's labels)."""
        return {tag: t.labels for tag, t in self.topics.items()}

    def topic(self, purpose: str) -> Topic:
        """The configured topic, or one that serves an unknown purpose under its tag."""
        found = self.topics.get(purpose)
        if found is not None:
            return found
        self.warn_unknown(purpose)
        return Topic(purpose, {lang: purpose for lang in LANGUAGES})

    def warn_unknown(self, purpose: str) -> None:
        """Once per tag and process (and for at most MAX_WARNED tags): the core sent a purpose
        the topics file does not know. Only a tag-shaped purpose is written out."""
        if purpose in self.topics or purpose in self._warned or len(self._warned) >= MAX_WARNED:
            return
        self._warned.add(purpose)
        shown = purpose if TAG.fullmatch(purpose) else "(not a tag)"
        log.warning("purpose %s is not in the topics file: served under its tag, without "
                    "opening hours or canned replies of its own", shown)

    def label(self, purpose: str, lang: str) -> str:
        found = self.topics.get(purpose)
        return found.labels.get(lang, purpose) if found else purpose

    def attribute_label(self, name: str, lang: str) -> str:
        return self.attributes.get(name, {}).get(lang, name)

    def attribute_labels(self, lang: str) -> dict[str, str]:
        return {name: labels[lang] for name, labels in self.attributes.items()}

    def shown(self, purpose: str, attributes: Mapping[str, str]) -> list[tuple[str, str]]:
        """The (name, value) pairs an agent sees for this topic, in the configured order; a
        topic without ``attributes`` shows all, the labelled ones first in the file's order."""
        chosen = self.topic(purpose).attributes
        if chosen is None:
            order = [n for n in self.attributes if n in attributes]
            order += [n for n in attributes if n not in self.attributes]
        else:
            order = [n for n in chosen if n in attributes]
        return [(n, attributes[n]) for n in order]

    def replies_for(self, lang: str | None = None) -> list[Reply]:
        return [r for r in self.replies if lang is None or r.lang == lang]


# What check() read at start-up, by path: the process keeps that, whatever happens to the
# file later (a change needs a restart, and is checked then).
_READ: dict[str, Catalogue] = {}


def catalogue(file: str) -> Catalogue:
    """The catalogue of ``topics.file`` (the shipped default when empty), as read at start-up."""
    path = str(Path(file) if file else DEFAULT_FILE)
    if path not in _READ:
        problems = check(file)
        if problems:  # settings that did not come through load_settings
            raise ValueError("; ".join(problems))
    return _READ[path]


def check(file: str) -> list[str]:
    """Read and check the topics file: every problem, for the settings' start-up report."""
    path = Path(file) if file else DEFAULT_FILE
    try:
        zone()
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError or a broken tz database
        return ["the time zone Europe/Amsterdam is missing: install the tz database "
                "(Debian package tzdata, or the Python package tzdata)"]
    read, problems = parse(path)
    if not problems:
        _READ[str(path)] = read
    return problems


def parse(path: Path) -> tuple[Catalogue, list[str]]:
    problems: list[str] = []
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Catalogue({}, {}), [f"topics.file {path}: {exc}"]
    where = f"topics file {path}"
    _unknown(data, {"attributes", "hours", "replies", "topics"}, where, problems)
    attributes = _attribute_labels(data.get("attributes", {}), where, problems)
    default_hours = _hours(data.get("hours"), f"{where} [hours]", problems)
    replies = _replies(data.get("replies", []), "", f"{where} [[replies]]", attributes, problems)
    topics: dict[str, Topic] = {}
    raw_topics = data.get("topics", [])
    if not isinstance(raw_topics, list) or not all(isinstance(t, dict) for t in raw_topics):
        problems.append(f"{where}: topics must be [[topics]] tables")
        raw_topics = []
    if not raw_topics:
        problems.append(f"{where}: no [[topics]]: name at least one purpose")
    for i, raw in enumerate(raw_topics, 1):
        topic = _topic(raw, f"{where} [[topics]] #{i}", attributes, default_hours, problems)
        if topic is None:
            continue
        if topic.purpose in topics:
            problems.append(f"{where} [[topics]] #{i}: duplicate topic {topic.purpose!r} "
                            "(each purpose once)")
            continue
        topics[topic.purpose] = topic
        replies += _replies(raw.get("replies", []), topic.purpose,
                            f"{where} [[topics]] {topic.purpose} replies", attributes, problems)
    if len(replies) > MAX_REPLIES:
        problems.append(f"{where}: {len(replies)} canned replies; at most {MAX_REPLIES}")
    if sum(len(r.text) for r in replies) > MAX_REPLIES_CHARS:
        problems.append(f"{where}: the canned replies hold more than {MAX_REPLIES_CHARS} "
                        "characters together; shorten or remove some")
    return Catalogue(topics, attributes, tuple(replies)), problems


def _unknown(data: Mapping[str, Any], known: Iterable[str], where: str,
             problems: list[str]) -> None:
    for key in sorted(set(data) - set(known)):
        problems.append(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")


def _languages(value: Any, where: str, problems: list[str], *, all_needed: bool = True
               ) -> dict[str, str] | None:
    """A table of texts per language: nl and en (both, unless ``all_needed`` is False)."""
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a table {{ nl = \"…\", en = \"…\" }}")
        return None
    _unknown(value, LANGUAGES, where, problems)
    out = {lang: value[lang] for lang in LANGUAGES if lang in value}
    for lang, text in out.items():
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}.{lang}: expected a non-empty text")
            return None
    missing = [lang for lang in LANGUAGES if lang not in out]
    if missing and (all_needed or len(missing) == len(LANGUAGES)):
        problems.append(f"{where}: missing language {', '.join(missing)} (give nl and en)")
        return None
    return out


def _attribute_labels(raw: Any, where: str, problems: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: [attributes] must be a table of name = {{ nl, en }}")
        return out
    for name, labels in raw.items():
        parsed = _languages(labels, f"{where} [attributes] {name}", problems)
        if parsed is not None:
            out[name] = parsed
    return out


def _topic(raw: dict[str, Any], where: str, attributes: Mapping[str, Any],
           default_hours: Hours, problems: list[str]) -> Topic | None:
    _unknown(raw, {"purpose", "nl", "en", "attributes", "hours", "alternative", "replies"},
             where, problems)
    purpose = raw.get("purpose")
    if not isinstance(purpose, str) or not TAG.fullmatch(purpose):
        problems.append(f"{where}: purpose must be the ID Contact purpose tag (letters, digits, "
                        "_ . -; at most 64)")
        return None
    where = f"{where} ({purpose})"
    labels = _languages({k: raw[k] for k in LANGUAGES if k in raw}, where, problems)
    shown = raw.get("attributes")
    if shown is not None:
        if not isinstance(shown, list) or not all(isinstance(n, str) for n in shown):
            problems.append(f"{where}.attributes: expected a list of attribute names")
            shown = None
        else:
            for name in shown:
                if name not in attributes:
                    problems.append(f"{where}.attributes: {name!r} has no labels in [attributes]")
            if len(set(shown)) != len(shown):
                problems.append(f"{where}.attributes: a name is listed twice")
    alternative = raw.get("alternative")
    if alternative is not None:
        alternative = _languages(alternative, f"{where}.alternative", problems)
    hours = _hours(raw["hours"], f"{where}.hours", problems) if "hours" in raw else default_hours
    if labels is None:
        return None
    return Topic(purpose, labels, tuple(shown) if shown is not None else None, hours, alternative)


def _hours(raw: Any, where: str, problems: list[str]) -> Hours:
    if raw is None:
        return Hours()
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a table of weekdays and closed days")
        return Hours()
    _unknown(raw, (*DAYS, "closed"), where, problems)
    week: list[tuple[tuple[int, int], ...]] = []
    for day in DAYS:
        texts = raw.get(day, [])
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            problems.append(f"{where}.{day}: expected a list like [\"08:30-12:00\", \"13:00-17:00\"]")
            texts = []
        windows = []
        for text in texts:
            try:
                windows.append(parse_window(text))
            except ValueError as exc:
                problems.append(f"{where}.{day}: {exc}")
        windows.sort()
        for (_, end), (start, _) in zip(windows, windows[1:]):
            if start < end:
                problems.append(f"{where}.{day}: windows overlap")
        week.append(tuple(windows))
    closed: set[date] = set()
    raw_closed = raw.get("closed", [])
    if not isinstance(raw_closed, list):
        problems.append(f"{where}.closed: expected a list of dates like 2026-12-25")
        raw_closed = []
    for item in raw_closed:
        if isinstance(item, date) and not hasattr(item, "hour"):
            closed.add(item)
        else:
            problems.append(f"{where}.closed: {item!r} is not a date (write 2026-12-25, unquoted)")
    return Hours(tuple(week), frozenset(closed), always=False)


def _replies(raw: Any, purpose: str, where: str, attributes: Mapping[str, Any],
             problems: list[str]) -> list[Reply]:
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        problems.append(f"{where}: expected [[...replies]] tables")
        return []
    out: list[Reply] = []
    keys: set[str] = set()
    for i, item in enumerate(raw, 1):
        here = f"{where} #{i}"
        _unknown(item, {"key", "nl", "en"}, here, problems)
        key = item.get("key")
        if not isinstance(key, str) or not KEY.fullmatch(key):
            problems.append(f"{here}: key must be what the agent types after /: lower-case "
                            "letters, digits and -, at most 32")
            continue
        if key in keys:
            problems.append(f"{here}: duplicate key {key!r}")
            continue
        keys.add(key)
        texts = _languages({k: item[k] for k in LANGUAGES if k in item}, f"{here} ({key})",
                           problems, all_needed=False)
        for lang, text in (texts or {}).items():
            if _reply_text_ok(text, f"{here} ({key}).{lang}", attributes, problems):
                out.append(Reply(key, lang, text, purpose))
    return out


def _reply_text_ok(text: str, where: str, attributes: Mapping[str, Any],
                   problems: list[str]) -> bool:
    ok = True
    if len(text) > MAX_REPLY_CHARS:
        problems.append(f"{where}: longer than {MAX_REPLY_CHARS} characters")
        ok = False
    for name in _PLACEHOLDER.findall(text):
        if name in PLACEHOLDERS:
            continue
        ok = False
        if name in attributes or name.lower() in {"bsn", "name", "naam", "email", "address"}:
            problems.append(f"{where}: placeholder {{{name}}} would put an attribute value in a "
                            "reply, which is never allowed; only {agent} and {topic}")
        else:
            problems.append(f"{where}: unknown placeholder {{{name}}}; only {{agent}} and {{topic}}")
    return ok
