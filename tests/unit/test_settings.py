"""Settings: defaults, TOML, environment, all problems reported together, secrets redacted."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tokenlab import ROOT, TEST_PRIVKEY, TEST_PUBKEY
from xmpp_plugin.settings import SettingsError, load_settings, setting_names

KEY = base64.b64encode(b"k" * 32).decode()
TOML = f"""
[http]
port = 9000
[tokens]
leeway_seconds = 3
decryption_privkey = {{ type = "RSA", file = "{TEST_PRIVKEY}" }}
signature_pubkey = {{ type = "RSA", key = '''{TEST_PUBKEY.read_text()}''' }}
[store]
attributes_key = "{KEY}"
[routing]
agents = ["romeo@agents.idchat.localhost"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "idchat.toml"
    path.write_text(text)
    return path


def test_defaults_then_toml_then_environment(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, TOML), environ={"IDCHAT_HTTP_PORT": "9100",
                                                      "IDCHAT_ROUTING_AGENTS": "a@x, b@y"})
    assert s.http.port == 9100                      # env beats TOML
    assert s.tokens.leeway_seconds == 3             # TOML beats default
    assert s.http.host == "127.0.0.1"               # default
    assert s.routing.agents == ("a@x", "b@y")
    assert s.tokens.signature_pubkey.pem().startswith(b"-----BEGIN PUBLIC KEY")
    assert s.tokens.decryption_privkey.pem() == TEST_PRIVKEY.read_bytes()


def test_config_path_from_environment(tmp_path: Path) -> None:
    s = load_settings(environ={"IDCHAT_CONFIG": str(write(tmp_path, TOML))})
    assert s.http.port == 9000


def test_all_problems_reported_together(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, "[http]\nport = 'x'\nbogus = 1\n"),
                      environ={"IDCHAT_STORE_ATTRIBUTES_KEY": "short",
                               "IDCHAT_UI_PRIMARY_COLOUR": "red;}"})
    text = "\n".join(info.value.problems)
    for expected in ("http.port", "unknown setting http.bogus", "tokens.decryption_privkey is required",
                     "tokens.signature_pubkey is required", "attributes_key", "primary_colour"):
        assert expected in text


def test_secrets_are_redacted_in_repr(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, TOML), environ={"IDCHAT_XMPP_COMPONENT_SECRET": "hunter2"})
    text = repr(s)
    # The controls: the secrets were loaded, and the repr shows the other settings.
    assert s.xmpp.component_secret == "hunter2" and s.store.attributes_key == KEY
    assert "leeway_seconds=3" in text and "port=9000" in text
    assert "hunter2" not in text and KEY not in text and "BEGIN PUBLIC KEY" not in text


def test_every_setting_is_listed_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", readme, flags=re.M))
    assert len(listed) > 20, "the README's settings table was not found"
    assert set(setting_names()) == listed
