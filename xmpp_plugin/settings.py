"""Typed, frozen settings: defaults, then a TOML file, then ``IDCHAT_*`` environment.

Every setting is a field of one of the section dataclasses below; the README lists
them all (a test keeps that list true). Environment names are
``IDCHAT_<SECTION>_<FIELD>`` (and ``IDCHAT_<SECTION>_<FIELD>_<SUBFIELD>`` for keys).
All problems are collected and reported together by :class:`SettingsError`.

Each process loads them for its role (``http`` or ``component``): a setting that
belongs to the other role only (:data:`ROLE_ONLY`) is neither read nor checked,
so the component never touches the token keys and the HTTP service never the
component secret.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import topics

ENV_PREFIX = "IDCHAT_"
CONFIG_ENV = "IDCHAT_CONFIG"
ROLES = ("http", "component")
# Settings that only one role reads (least privilege); everything else both read.
ROLE_ONLY: dict[str, str] = {
    "tokens.decryption_privkey": "http",
    "tokens.signature_pubkey": "http",
    "demo": "http",
    "xmpp.component_secret": "component",
    "agents.client_secret": "http",
    "agents.client_secret_file": "http",
    "agents.credential_key": "http",
    "agents.credential_key_file": "http",
    "auth.request_privkey": "component",
}
AGENT_MODES = ("xmpp-accounts", "oidc")
MIN_CREDENTIAL_KEY_BYTES = 32
MAX_LEEWAY_SECONDS = 300


class SettingsError(Exception):
    """One or more settings are missing or invalid; ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KeyConfig:
    """A PEM key as the reference plugins configure it: ``{type, key}`` or ``{type, file}``."""

    type: str = ""
    key: str = field(default="", repr=False)
    file: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.key or self.file)

    def pem(self) -> bytes:
        if self.key:
            return self.key.encode()
        return Path(self.file).read_bytes()


@dataclass(frozen=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8002
    external_url: str = "http://127.0.0.1:8002"
    internal_url: str = "http://127.0.0.1:8002"
    max_body_bytes: int = 16384


@dataclass(frozen=True)
class RedisSettings:
    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "idchat"
    timeout_seconds: float = 2.0
    max_connections: int = 50
    username: str = ""
    password: str = field(default="", repr=False)
    password_file: str = ""
    sentinels: tuple[str, ...] = ()
    sentinel_service: str = "idchat"

    def credentials(self) -> dict[str, str]:
        """``username``/``password`` for the client, when set (the file is read here)."""
        out = {"username": self.username} if self.username else {}
        if self.password_file:
            out["password"] = Path(self.password_file).read_text().strip()
        elif self.password:
            out["password"] = self.password
        return out

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """``redis.sentinels`` as (host, port) pairs; ``[v6]:port`` allowed."""
        out = []
        for item in self.sentinels:
            host, _, port = item.rpartition(":")
            out.append((host.removeprefix("[").removesuffix("]"), int(port)))
        return out


@dataclass(frozen=True)
class TokenSettings:
    decryption_privkey: KeyConfig = KeyConfig()
    signature_pubkey: KeyConfig = KeyConfig()
    leeway_seconds: int = 0


@dataclass(frozen=True)
class AuthSettings:
    """Authentication during the chat (docs/protocol.md §11): an agent asks, the component
    asks the ID Contact core (``POST <core_url>/start``), the citizen logs in there."""

    core_url: str = ""
    requestor: str = ""
    request_privkey: KeyConfig = KeyConfig()
    request_timeout_seconds: int = 300
    agent_requests_per_minute: int = 10

    @property
    def enabled(self) -> bool:
        return bool(self.core_url)


@dataclass(frozen=True)
class StoreSettings:
    session_ttl_seconds: int = 3600
    # A session that never got a chat (the citizen never arrived, or the claim failed)
    # lives this long after its last sign of life, not the hour of a chat.
    unclaimed_ttl_seconds: int = 900
    ticket_ttl_seconds: int = 120
    attributes_key: str = field(default="", repr=False)

    def attributes_key_bytes(self) -> bytes:
        return base64.b64decode(self.attributes_key, validate=True)


@dataclass(frozen=True)
class XmppSettings:
    agent_domain: str = "agents.idchat.localhost"
    guest_domain: str = "guest.idchat.localhost"
    muc_domain: str = "rooms.idchat.localhost"
    component_domain: str = "component.idchat.localhost"
    component_secret: str = field(default="", repr=False)
    component_host: str = "127.0.0.1"
    component_port: int = 15347
    c2s_port: int = 15222
    http_port: int = 15280
    websocket_url: str = "ws://127.0.0.1:15280/xmpp-websocket"
    server: str = "prosody"
    lease_seconds: int = 10


@dataclass(frozen=True)
class RoutingSettings:
    offer_timeout_seconds: int = 30
    reoffer_pause_seconds: int = 60
    no_agent_timeout_seconds: int = 0
    citizen_gone_seconds: int = 120
    agent_grace_seconds: int = 20
    orphan_check_seconds: int = 30
    agents: tuple[str, ...] = ()
    agent_purposes: tuple[str, ...] = ()
    supervisors: tuple[str, ...] = ()
    service_level_seconds: int = 60
    supervisor_push_seconds: int = 5
    alternative_nl: str = "Bel ons op 14 020, op werkdagen van 8.00 tot 17.00 uur."
    alternative_en: str = "Call us on 14 020, on weekdays from 8:00 to 17:00."


@dataclass(frozen=True)
class AgentSettings:
    """How agents sign in (docs/deployment.md, "Agents: OpenID Connect or XMPP accounts"):
    ``xmpp-accounts`` (password accounts on the XMPP server) or ``oidc`` (the municipality's
    OpenID Provider, then a short-lived XMPP credential signed with ``credential_key``)."""

    mode: str = "xmpp-accounts"
    issuer: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    client_secret_file: str = ""
    scopes: tuple[str, ...] = ("openid", "profile")
    id_token_algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256")
    username_claim: str = "sub"
    role_claim: str = "roles"
    agent_role: str = "agent"
    supervisor_role: str = "supervisor"
    groups_claim: str = "groups"
    group_purposes: tuple[str, ...] = ()
    required_acr: tuple[str, ...] = ()
    required_amr: tuple[str, ...] = ()
    leeway_seconds: int = 30
    session_idle_seconds: int = 900
    session_max_seconds: int = 36000
    credential_ttl_seconds: int = 300
    provider_check_seconds: int = 60
    credential_key: str = field(default="", repr=False)
    credential_key_file: str = ""

    def secret(self) -> str:
        """The client secret (the file is read here)."""
        if self.client_secret_file:
            return Path(self.client_secret_file).read_text().strip()
        return self.client_secret

    def credential_key_bytes(self) -> bytes:
        """The HS256 key the XMPP server checks agent credentials with (the file is read here)."""
        if self.credential_key_file:
            return Path(self.credential_key_file).read_bytes().strip()
        return self.credential_key.encode()

    def purposes_for(self, groups: list[str]) -> tuple[str, ...] | None:
        """The purposes ``groups`` serve by ``group_purposes`` (``group=p1|p2``, ``*``: all);
        None: every purpose."""
        out: list[str] = []
        for entry in self.group_purposes:
            group, _, purposes = entry.partition("=")
            if group.strip() in groups:
                for purpose in purposes.split("|"):
                    if purpose.strip() == "*":
                        return None
                    if purpose.strip() and purpose.strip() not in out:
                        out.append(purpose.strip())
        return tuple(out)


@dataclass(frozen=True)
class BudgetSettings:
    """The component's per-sender budget (component/budget.py): stanzas per second, the
    burst a sender may send at once, and how many of its stanzas are handled at a time."""

    guest_rate: float = 2.0
    guest_burst: int = 10
    guest_in_flight: int = 2
    agent_rate: float = 50.0
    agent_burst: int = 200
    agent_in_flight: int = 8
    room_rate: float = 5.0
    room_burst: int = 20
    refusals: int = 10
    in_flight: int = 32
    senders: int = 10000


@dataclass(frozen=True)
class TopicSettings:
    """The municipality's topics, labels, opening hours and canned replies (xmpp_plugin/topics.py)."""

    file: str = ""

    def catalogue(self) -> "topics.Catalogue":
        return topics.catalogue(self.file)


@dataclass(frozen=True)
class UiSettings:
    municipality: str = "Gemeente Voorbeeld"
    logo_url: str = ""
    primary_colour: str = "#154273"
    default_language: str = "nl"
    home_url: str = ""


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool = False
    core_simulator: bool = False
    encryption_pubkey: KeyConfig = KeyConfig()
    signing_privkey: KeyConfig = KeyConfig()
    requestor_pubkey: KeyConfig = KeyConfig()


@dataclass(frozen=True)
class MetricsSettings:
    """The component's own /metrics listener (port 0: off); the HTTP service serves
    /metrics on its own port."""

    component_host: str = "127.0.0.1"
    component_port: int = 0


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    audit_file: str = ""


@dataclass(frozen=True)
class Settings:
    http: HttpSettings = HttpSettings()
    redis: RedisSettings = RedisSettings()
    tokens: TokenSettings = TokenSettings()
    auth: AuthSettings = AuthSettings()
    store: StoreSettings = StoreSettings()
    xmpp: XmppSettings = XmppSettings()
    routing: RoutingSettings = RoutingSettings()
    agents: AgentSettings = AgentSettings()
    topics: TopicSettings = TopicSettings()
    budget: BudgetSettings = BudgetSettings()
    ui: UiSettings = UiSettings()
    demo: DemoSettings = DemoSettings()
    metrics: MetricsSettings = MetricsSettings()
    log: LogSettings = LogSettings()


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None,
    *, role: str | None = None,
) -> Settings:
    """Build the settings once: defaults, then TOML at ``path`` (or ``$IDCHAT_CONFIG``), then env.

    ``role`` is the process's (``http`` or ``component``): the other role's settings
    keep their defaults, unread. ``None`` (tools and tests that play both) reads and
    checks everything.
    """
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    environ = os.environ if environ is None else environ
    skip = frozenset(name for name, owner in ROLE_ONLY.items() if role not in (None, owner))
    problems: list[str] = []
    data: dict[str, Any] = {}
    path = path or environ.get(CONFIG_ENV)
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"config file {path}: {exc}")
    settings: Settings = _build(Settings, data, (), environ, problems, skip)
    _check(settings, problems, role)
    if problems:
        raise SettingsError(problems)
    return settings


def setting_names() -> list[str]:
    """Every setting as ``section.field`` (keys as ``section.field.sub``), for docs and tests."""
    return [".".join(p) for p in _leaves(Settings, ())]


def _leaves(cls: type, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out.extend(_leaves(tp, prefix + (f.name,)))  # type: ignore[arg-type]
        else:
            out.append(prefix + (f.name,))
    return out


def _build(cls: type, data: Any, prefix: tuple[str, ...], environ: Mapping[str, str],
           problems: list[str], skip: frozenset[str] = frozenset()) -> Any:
    if not isinstance(data, dict):
        problems.append(f"[{'.'.join(prefix)}] must be a table")
        data = {}
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for unknown in sorted(set(data) - names):
        problems.append(f"unknown setting {'.'.join(prefix + (unknown,))}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        dotted = ".".join(prefix + (f.name,))
        if dotted in skip:
            continue  # another role's setting: never read here
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            values[f.name] = _build(tp, data.get(f.name, {}), prefix + (f.name,), environ,
                                    problems, skip)
            continue
        env_name = ENV_PREFIX + "_".join(prefix + (f.name,)).upper()
        if env_name in environ:
            raw: Any = environ[env_name]
            source = env_name
        elif f.name in data:
            raw, source = data[f.name], dotted
        else:
            continue
        try:
            values[f.name] = _coerce(tp, raw)
        except (TypeError, ValueError) as exc:
            problems.append(f"{source}: {exc}")
    return cls(**values)


def _coerce(tp: Any, raw: Any) -> Any:
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if tp is int or tp is float:
        if isinstance(raw, bool):
            raise ValueError("expected a number")
        return tp(raw)
    if tp is str:
        if not isinstance(raw, str):
            raise ValueError("expected a string")
        return raw
    if typing.get_origin(tp) is tuple:
        if isinstance(raw, str):
            return tuple(s.strip() for s in raw.split(",") if s.strip())
        if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
            return tuple(raw)
        raise ValueError("expected a list of strings")
    raise TypeError(f"unsupported type {tp}")


def _check(s: Settings, problems: list[str], role: str | None) -> None:
    if role in (None, "http"):
        _check_http(s, problems)
    if role in (None, "component") and not s.xmpp.component_secret:
        problems.append("xmpp.component_secret is required for the component: the XEP-0114 "
                        "secret it shares with the XMPP server (IDCHAT_XMPP_COMPONENT_SECRET)")
    if not s.store.attributes_key:
        problems.append("store.attributes_key is required (base64 of 32 random bytes)")
    else:
        try:
            if len(s.store.attributes_key_bytes()) != 32:
                problems.append("store.attributes_key must decode to exactly 32 bytes")
        except (binascii.Error, ValueError):
            problems.append("store.attributes_key is not valid base64")
    for name, value in (("tokens.leeway_seconds", s.tokens.leeway_seconds),
                        ("store.session_ttl_seconds", s.store.session_ttl_seconds - 1),
                        ("store.unclaimed_ttl_seconds", s.store.unclaimed_ttl_seconds - 1),
                        ("store.ticket_ttl_seconds", s.store.ticket_ttl_seconds - 1),
                        ("http.max_body_bytes", s.http.max_body_bytes - 1)):
        if value < 0:
            problems.append(f"{name} must be positive")
    if not 0 <= s.metrics.component_port <= 65535:
        problems.append("metrics.component_port must be 0 (off) or a TCP port")
    if s.routing.service_level_seconds < 1 or s.routing.supervisor_push_seconds < 1:
        problems.append("routing.service_level_seconds and routing.supervisor_push_seconds "
                        "must be at least 1")
    if s.tokens.leeway_seconds > MAX_LEEWAY_SECONDS:
        problems.append(f"tokens.leeway_seconds must be at most {MAX_LEEWAY_SECONDS} (a few seconds of clock skew)")
    if role in (None, "component"):
        _check_budget(s, problems)
    _check_auth(s.auth, problems, role)
    for name, url in (("http.external_url", s.http.external_url),
                      ("http.internal_url", s.http.internal_url)):
        if not url.startswith(("http://", "https://")) or url.endswith("/"):
            problems.append(f"{name} must be an http(s) URL without a trailing slash")
    _check_redis(s.redis, problems)
    if s.xmpp.server not in {"prosody", "ejabberd"}:
        problems.append("xmpp.server must be prosody or ejabberd")
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", s.ui.primary_colour):
        problems.append("ui.primary_colour must be a colour like #154273")
    if s.ui.home_url and not re.fullmatch(r"https?://[^\s\"'<>]+", s.ui.home_url):
        problems.append("ui.home_url must be an http(s) address, e.g. https://www.gemeente.nl/contact")
    if s.ui.default_language not in {"nl", "en"}:
        problems.append("ui.default_language must be nl or en")
    problems.extend(topics.check(s.topics.file))


def _check_http(s: Settings, problems: list[str]) -> None:
    for name, key in (("tokens.decryption_privkey", s.tokens.decryption_privkey),
                      ("tokens.signature_pubkey", s.tokens.signature_pubkey)):
        if not key.configured:
            problems.append(f"{name} is required for the HTTP service ({{type, key}} or {{type, file}})")
        elif key.type not in {"RSA", "EC"}:
            problems.append(f"{name}.type must be RSA or EC")
        elif key.file and not Path(key.file).is_file():
            problems.append(f"{name}.file: no such file {key.file}")
    if s.demo.core_simulator and not s.demo.enabled:
        problems.append("demo.core_simulator serves /demo/core, which mints tokens for anyone: "
                        "never in production. Switch it off (IDCHAT_DEMO_CORE_SIMULATOR=false), "
                        "or, for a demo or a test only, set demo.enabled = true (IDCHAT_DEMO_ENABLED=true)")
    if s.demo.core_simulator and not (s.demo.encryption_pubkey.configured
                                      and s.demo.signing_privkey.configured):
        problems.append("demo.core_simulator needs demo.encryption_pubkey and demo.signing_privkey")
    if s.demo.core_simulator and s.auth.core_url and not s.demo.requestor_pubkey.configured:
        problems.append("demo.core_simulator plays the core's /start with auth.core_url set: it needs "
                        "demo.requestor_pubkey, the public half of auth.request_privkey")
    _check_agents(s.agents, problems)


def _check_auth(a: AuthSettings, problems: list[str], role: str | None) -> None:
    if not a.core_url:
        return  # authentication during the chat is off
    if not re.fullmatch(r"https?://[^\s\"'<>]+", a.core_url) or a.core_url.endswith("/"):
        problems.append("auth.core_url must be an http(s) URL without a trailing slash")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", a.requestor):
        problems.append("auth.requestor is required with auth.core_url: our requestor name at the "
                        "core (the JWS kid), letters, digits, '.', '_' or '-'")
    if a.request_timeout_seconds < 30 or a.agent_requests_per_minute < 1:
        problems.append("auth.request_timeout_seconds must be at least 30 and "
                        "auth.agent_requests_per_minute at least 1")
    if role not in (None, "component"):
        return
    key = a.request_privkey
    if not key.configured:
        problems.append("auth.request_privkey is required with auth.core_url ({type, key} or "
                        "{type, file}): the component signs its /start requests with it")
    elif key.type not in {"RSA", "EC"}:
        problems.append("auth.request_privkey.type must be RSA or EC")
    elif key.file and not Path(key.file).is_file():
        problems.append(f"auth.request_privkey.file: no such file {key.file}")


def _check_agents(a: AgentSettings, problems: list[str]) -> None:
    if a.mode not in AGENT_MODES:
        problems.append(f"agents.mode must be one of {', '.join(AGENT_MODES)}")
    if a.mode != "oidc":
        return
    if not re.fullmatch(r"https?://[^\s?#]+", a.issuer) or a.issuer.endswith("/"):
        problems.append("agents.issuer must be the provider's http(s) issuer URL, without a trailing slash")
    if not a.client_id:
        problems.append("agents.client_id is required with agents.mode = oidc")
    for name, value, path in (("client_secret", a.client_secret, a.client_secret_file),
                              ("credential_key", a.credential_key, a.credential_key_file)):
        if value and path:
            problems.append(f"give agents.{name} or agents.{name}_file, not both")
        elif path and not Path(path).is_file():
            problems.append(f"agents.{name}_file: no such file {path}")
        elif not (value or path):
            problems.append(f"agents.{name} (or agents.{name}_file) is required with agents.mode = oidc")
    if (a.credential_key or a.credential_key_file) and not any(
            p.startswith("agents.credential_key") for p in problems) \
            and len(a.credential_key_bytes()) < MIN_CREDENTIAL_KEY_BYTES:
        problems.append(f"agents.credential_key must be at least {MIN_CREDENTIAL_KEY_BYTES} bytes")
    if "openid" not in a.scopes:
        problems.append("agents.scopes must include openid")
    bad = [alg for alg in a.id_token_algorithms if alg.lower() == "none" or alg.startswith("HS")]
    if bad or not a.id_token_algorithms:
        problems.append("agents.id_token_algorithms: asymmetric algorithms only (e.g. RS256, ES256), never none or HS*")
    for entry in a.group_purposes:
        if "=" not in entry or not entry.partition("=")[0].strip():
            problems.append(f"agents.group_purposes: {entry!r} is not group=purpose1|purpose2")
    if not 0 <= a.leeway_seconds <= MAX_LEEWAY_SECONDS:
        problems.append(f"agents.leeway_seconds must be from 0 to {MAX_LEEWAY_SECONDS}")
    if not 60 <= a.credential_ttl_seconds <= 3600:
        problems.append("agents.credential_ttl_seconds must be from 60 to 3600 (minutes, not hours)")
    if not 0 <= a.provider_check_seconds < a.credential_ttl_seconds:
        problems.append("agents.provider_check_seconds must be from 0 to below agents.credential_ttl_seconds")
    if not a.credential_ttl_seconds <= a.session_idle_seconds <= a.session_max_seconds:
        problems.append("agents: credential_ttl_seconds <= session_idle_seconds <= session_max_seconds")


def _check_redis(r: RedisSettings, problems: list[str]) -> None:
    if r.password and r.password_file:
        problems.append("give redis.password or redis.password_file, not both")
    if r.password_file and not Path(r.password_file).is_file():
        problems.append(f"redis.password_file: no such file {r.password_file}")
    if (r.password or r.password_file) and "@" in r.url.partition("//")[2].partition("/")[0]:
        problems.append("redis.url carries credentials and redis.password(_file) is set too: give them once")
    for item in r.sentinels:
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            problems.append(f"redis.sentinels: {item!r} is not host:port")
    if r.sentinels and not r.sentinel_service.strip():
        problems.append("redis.sentinel_service must name the primary the Sentinels watch")


def _check_budget(s: Settings, problems: list[str]) -> None:
    lim = s.budget
    for name in ("guest_rate", "agent_rate", "room_rate", "guest_burst", "agent_burst",
                 "room_burst", "guest_in_flight", "agent_in_flight", "in_flight", "senders"):
        if getattr(lim, name) <= 0:
            problems.append(f"budget.{name} must be positive")
    if lim.refusals < 0:
        problems.append("budget.refusals must be 0 or more")
    if lim.in_flight >= s.redis.max_connections:
        # Handlers hold at most one pool connection each: the rest stays for background work.
        problems.append("budget.in_flight must be below redis.max_connections")
    if lim.senders <= lim.in_flight:
        problems.append("budget.senders must be larger than budget.in_flight")
