"""The XMPP servers' demo and production profiles, read without starting a server.

The integration tests start both profiles; these keep the files honest between runs:
ejabberd's two templates differ only where the production profile is meant to differ,
neither has a server-to-server or admin interface, Prosody's production profile can
never run as root, and both servers take the same limit defaults from the environment.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from ejabberd_server import (  # noqa: E402
    LIMIT_DEFAULTS,
    PROFILES,
    TEMPLATE_DIR,
    TRUSTED_PROXIES,
    TRUSTED_PROXIES_DEFAULT,
    EjabberdError,
    _yaml_scalar,
    render,
    xmpp_settings,
)

PROSODY = ROOT / "prosody"
ENV = {"IDCHAT_XMPP_COMPONENT_SECRET": "profile-test-secret",
       "IDCHAT_XMPP_TLS_CERT_FILE": "/etc/idchat/tls/cert.pem",
       "IDCHAT_XMPP_TLS_KEY_FILE": "/etc/idchat/tls/key.pem"}


def ejabberd_config(profile: str, env: dict[str, str] = ENV) -> dict[str, Any]:
    text = (TEMPLATE_DIR / PROFILES[profile]).read_text()
    return yaml.safe_load(render(text, xmpp_settings(env, profile), _yaml_scalar))


def listener(config: dict[str, Any], module: str) -> dict[str, Any]:
    (found,) = [entry for entry in config["listen"] if entry["module"] == module]
    return found


def code_lines(path: Path) -> list[str]:
    """The lines of a Lua config file without comments."""
    return [line.split("--", 1)[0] for line in path.read_text().splitlines()]


def test_ejabberd_production_differs_from_the_demo_only_in_tls() -> None:
    demo, production = ejabberd_config("demo"), ejabberd_config("production")
    assert production["certfiles"] == [ENV["IDCHAT_XMPP_TLS_CERT_FILE"], ENV["IDCHAT_XMPP_TLS_KEY_FILE"]]
    assert {"no_tlsv1", "no_tlsv1_1", "no_sslv3"} <= set(production["c2s_protocol_options"])
    c2s = listener(production, "ejabberd_c2s")
    assert c2s["starttls"] is True and c2s["starttls_required"] is True
    assert "starttls_required" not in listener(demo, "ejabberd_c2s")

    stripped = copy.deepcopy(production)
    del stripped["certfiles"], stripped["c2s_protocol_options"]
    for key in ("starttls", "starttls_required"):
        del listener(stripped, "ejabberd_c2s")[key]
    assert stripped == demo


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_ejabberd_has_no_federation_and_no_admin_interface(profile: str) -> None:
    config = ejabberd_config(profile)
    assert config["s2s_access"] == "none"
    assert sorted(entry["module"] for entry in config["listen"]) == \
        ["ejabberd_c2s", "ejabberd_http", "ejabberd_service"]  # no ejabberd_s2s_in
    assert listener(config, "ejabberd_http")["request_handlers"] == {"/xmpp-websocket": "ejabberd_http_ws"}
    modules = set(config["modules"])
    for host in config["append_host_config"].values():
        modules |= set(host.get("modules", {}))
    assert not modules & {"mod_http_api", "mod_admin_extra", "mod_configure", "mod_adhoc",
                          "mod_s2s_dialback", "mod_register", "mod_offline", "mod_mam"}
    assert "mod_idchat_guests" in modules


def test_ejabberd_limits_come_from_the_environment() -> None:
    config = ejabberd_config("demo", {**ENV, "IDCHAT_LIMITS_GUEST_RATE": "2000",
                                      "IDCHAT_LIMITS_AGENT_RATE": "90000",
                                      "IDCHAT_LIMITS_MAX_STANZA_BYTES": "20000",
                                      TRUSTED_PROXIES: "10.0.0.0/8, 192.0.2.7"})
    assert config["shaper"] == {"idchat_guest": 2000, "idchat_agent": 90000}
    assert listener(config, "ejabberd_c2s")["max_stanza_size"] == 20000
    assert listener(config, "ejabberd_c2s")["shaper"] == "idchat_c2s_shaper"
    assert config["trusted_proxies"] == ["10.0.0.0/8", "192.0.2.7"]
    defaults = ejabberd_config("demo")
    assert defaults["shaper"] == {"idchat_guest": LIMIT_DEFAULTS["IDCHAT_LIMITS_GUEST_RATE"][0],
                                  "idchat_agent": LIMIT_DEFAULTS["IDCHAT_LIMITS_AGENT_RATE"][0]}
    assert defaults["trusted_proxies"] == ["127.0.0.1", "::1"]


@pytest.mark.parametrize("bad", [{"IDCHAT_LIMITS_GUEST_RATE": "fast"}, {"IDCHAT_LIMITS_GUEST_RATE": "10"},
                                 {TRUSTED_PROXIES: "proxy.example"},
                                 {"IDCHAT_XMPP_TLS_KEY_FILE": ""}])
def test_ejabberd_refuses_bad_limits_and_missing_tls_files(bad: dict[str, str]) -> None:
    with pytest.raises(EjabberdError, match=next(iter(bad))):
        xmpp_settings({**ENV, **bad}, "production")


def test_both_servers_share_the_limit_defaults() -> None:
    common = (PROSODY / "common.cfg.lua").read_text()
    for name, (default, low, high) in LIMIT_DEFAULTS.items():
        match = re.search(rf'env_integer\("{name}", "(\d+)", (\d+), (\d+)\)', common)
        assert match, f"prosody/common.cfg.lua does not read {name}"
        assert tuple(map(int, match.groups())) == (default, low, high), name
    assert f'env_list("{TRUSTED_PROXIES}", "{TRUSTED_PROXIES_DEFAULT}")' in common
    # Prosody alone caps guest sessions per address; ejabberd leaves it to the proxy.
    assert 'env_integer("IDCHAT_LIMITS_GUEST_SESSIONS_PER_ADDRESS", "10", 1,' in common
    # Prosody's byte rates have a burst (one second's worth, like ejabberd's shaper) from
    # our module; mod_limits, which has none, is not loaded.
    assert 'env_integer("IDCHAT_LIMITS_BURST_SECONDS", "1", 0, 60)' in common
    assert "idchat_limits_burst_seconds = burst_seconds;" in common
    enabled = re.search(r"\nmodules_enabled = \{(.*?)\n\}", common, re.S)
    assert enabled and '"idchat_limits";' in enabled.group(1)
    assert not re.search(r'^\s*"limits";', enabled.group(1), re.M)
    assert not re.search(r"^limits\s*=", common, re.M)


def test_prosody_production_never_runs_as_root_and_requires_tls() -> None:
    production = code_lines(PROSODY / "prosody.production.cfg.lua")
    common = code_lines(PROSODY / "common.cfg.lua")
    demo = code_lines(PROSODY / "prosody.cfg.lua")
    assert not [line for line in production + common if re.match(r"\s*run_as_root\s*=", line)]
    assert any(re.match(r"\s*run_as_root\s*=\s*true", line) for line in demo)  # the check sees it
    # Prosody 0.12.3's own refusal (mod_posix) fails half-way: the profile refuses root itself.
    assert any('prosody.process_type == "prosody" and require "util.pposix".getuid() == 0' in line
               for line in production)
    for line in ("c2s_require_encryption = true;", "allow_unencrypted_plain_auth = false;",
                 "consider_websocket_secure = false;"):
        assert line in [code.strip() for code in production]
    for lines in (production, demo):
        assert [code.strip() for code in lines if "Include" in code] == ['Include "common.cfg.lua"']
    # No federation and no admin interface, for both profiles.
    text = "\n".join(common)
    assert re.search(r'modules_disabled = \{[^}]*"s2s"', text)
    for module in ("admin_shell", "admin_telnet", "admin_adhoc", "register", "mam", "bosh"):
        assert f'"{module}"' not in text, module
