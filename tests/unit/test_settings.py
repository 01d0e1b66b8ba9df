"""Settings: defaults, TOML, environment, all problems reported together, secrets redacted."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tokenlab import ROOT, TEST_PRIVKEY, TEST_PUBKEY, ec_key, other_rsa_key, pem_private, pem_public
from xmpp_plugin.app import create_app
from xmpp_plugin.settings import (
    DemoSettings,
    KeyConfig,
    SettingsError,
    load_settings,
    setting_names,
)

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
                                                      "IDCHAT_ROUTING_AGENTS": "a@x, b@y"},
                      role="http")
    assert s.http.port == 9100                      # env beats TOML
    assert s.tokens.leeway_seconds == 3             # TOML beats default
    assert s.http.host == "127.0.0.1"               # default
    assert s.routing.agents == ("a@x", "b@y")
    assert s.tokens.signature_pubkey.pem().startswith(b"-----BEGIN PUBLIC KEY")
    assert s.tokens.decryption_privkey.pem() == TEST_PRIVKEY.read_bytes()


def test_config_path_from_environment(tmp_path: Path) -> None:
    s = load_settings(environ={"IDCHAT_CONFIG": str(write(tmp_path, TOML))}, role="http")
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
    s = load_settings(write(tmp_path, TOML), environ={"IDCHAT_XMPP_COMPONENT_SECRET": "hunter2",
                                                      "IDCHAT_REDIS_USERNAME": "idchat-http",
                                                      "IDCHAT_REDIS_PASSWORD": "swordfish"})
    assert s.xmpp.component_secret == "hunter2" and s.redis.password == "swordfish"
    text = repr(s)
    # The controls: the secrets were loaded, and the repr shows the other settings.
    assert s.xmpp.component_secret == "hunter2" and s.store.attributes_key == KEY
    assert "leeway_seconds=3" in text and "port=9000" in text
    assert "hunter2" not in text and KEY not in text and "BEGIN PUBLIC KEY" not in text
    assert "swordfish" not in text and "idchat-http" in text


def test_every_setting_is_listed_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", readme, flags=re.M))
    assert len(listed) > 20, "the README's settings table was not found"
    assert set(setting_names()) == listed


# -- least privilege: each process reads its own role's settings ------------------------------

COMMON = {"IDCHAT_STORE_ATTRIBUTES_KEY": KEY}
TOKEN_KEYS = {"IDCHAT_TOKENS_DECRYPTION_PRIVKEY_TYPE": "RSA",
              "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(TEST_PRIVKEY),
              "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
              "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY)}


def test_component_needs_no_token_key_settings_at_all() -> None:
    s = load_settings(environ={**COMMON, "IDCHAT_XMPP_COMPONENT_SECRET": "s3cret"}, role="component")
    assert s.xmpp.component_secret == "s3cret" and not s.tokens.decryption_privkey.configured


def test_component_never_reads_token_keys_or_demo_settings(tmp_path: Path) -> None:
    # Given anyway (a shared file or environment), they stay unread: a path that does not
    # exist is no problem, and nothing of them reaches the component's settings.
    toml = write(tmp_path, '[tokens]\ndecryption_privkey = { type = "RSA", file = "/nonexistent/key.pem" }\n'
                           '[demo]\ncore_simulator = true\nenabled = true\n')
    s = load_settings(toml, environ={**COMMON, "IDCHAT_XMPP_COMPONENT_SECRET": "s3cret",
                                     "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": "/nonexistent/pub.pem",
                                     "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "bogus"},
                      role="component")
    assert s.tokens.decryption_privkey == KeyConfig() and s.tokens.signature_pubkey == KeyConfig()
    assert s.demo == DemoSettings()
    with pytest.raises(SettingsError) as info:                  # positive control: http reads them
        load_settings(toml, environ={**COMMON, "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": "/nonexistent/pub.pem",
                                     "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA"}, role="http")
    assert "no such file /nonexistent/key.pem" in str(info.value)


def test_http_service_never_reads_the_component_secret() -> None:
    s = load_settings(environ={**COMMON, **TOKEN_KEYS, "IDCHAT_XMPP_COMPONENT_SECRET": "hunter2"},
                      role="http")
    assert s.xmpp.component_secret == ""
    assert load_settings(environ={**COMMON, **TOKEN_KEYS}, role="http").xmpp.component_secret == ""


def test_a_missing_setting_of_the_own_role_is_a_clear_error() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**COMMON, **TOKEN_KEYS}, role="component")
    assert info.value.problems == ["xmpp.component_secret is required for the component: the XEP-0114 "
                                   "secret it shares with the XMPP server (IDCHAT_XMPP_COMPONENT_SECRET)"]
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**COMMON, "IDCHAT_XMPP_COMPONENT_SECRET": "s"}, role="http")
    assert info.value.problems == [
        "tokens.decryption_privkey is required for the HTTP service ({type, key} or {type, file})",
        "tokens.signature_pubkey is required for the HTTP service ({type, key} or {type, file})"]
    with pytest.raises(ValueError):
        load_settings(environ=COMMON, role="agent")


# -- Redis credentials ------------------------------------------------------------------------


def test_redis_password_from_a_file_or_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "redis.password"
    secret.write_text("correct horse\n")
    s = load_settings(environ={**COMMON, **TOKEN_KEYS, "IDCHAT_REDIS_USERNAME": "idchat-http",
                               "IDCHAT_REDIS_PASSWORD_FILE": str(secret)}, role="http")
    assert s.redis.credentials() == {"username": "idchat-http", "password": "correct horse"}
    s = load_settings(environ={**COMMON, **TOKEN_KEYS, "IDCHAT_REDIS_USERNAME": "u",
                               "IDCHAT_REDIS_PASSWORD": "p"}, role="http")
    assert s.redis.credentials() == {"username": "u", "password": "p"}
    assert load_settings(environ={**COMMON, **TOKEN_KEYS}, role="http").redis.credentials() == {}


@pytest.mark.parametrize("env,problem", [
    ({"IDCHAT_REDIS_PASSWORD": "p", "IDCHAT_REDIS_PASSWORD_FILE": "/etc/hostname"}, "not both"),
    ({"IDCHAT_REDIS_PASSWORD_FILE": "/nonexistent/redis.password"}, "no such file"),
    ({"IDCHAT_REDIS_URL": "redis://u:p@redis:6379/0", "IDCHAT_REDIS_PASSWORD": "p"}, "give them once"),
])
def test_redis_credentials_given_twice_or_missing_are_refused(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**COMMON, **TOKEN_KEYS, **env}, role="http")
    assert problem in str(info.value)


# -- Redis Sentinel ---------------------------------------------------------------------------


def test_sentinels_as_a_list_and_the_client_that_asks_them(tmp_path: Path) -> None:
    from redis.asyncio import BlockingConnectionPool
    from redis.asyncio.sentinel import SentinelConnectionPool

    from xmpp_plugin.store import connect

    s = load_settings(environ={**COMMON, **TOKEN_KEYS, "IDCHAT_REDIS_USERNAME": "idchat-http",
                               "IDCHAT_REDIS_PASSWORD": "p", "IDCHAT_REDIS_MAX_CONNECTIONS": "7",
                               "IDCHAT_REDIS_SENTINELS": "10.0.0.1:26379, s2.example:26380,[::1]:26381"},
                      role="http")
    assert s.redis.sentinel_addresses() == [("10.0.0.1", 26379), ("s2.example", 26380), ("::1", 26381)]
    assert s.redis.sentinel_service == "idchat"
    pool = connect(s).connection_pool
    # Sentinel finds the primary; the pool still waits for a free connection (blocking).
    assert isinstance(pool, SentinelConnectionPool) and isinstance(pool, BlockingConnectionPool)
    assert (pool.service_name, pool.max_connections, pool.timeout) == ("idchat", 7, 2.0)
    assert pool.connection_kwargs["username"] == "idchat-http"
    sentinels = pool.sentinel_manager.sentinels
    assert [c.connection_pool.connection_kwargs["port"] for c in sentinels] == [26379, 26380, 26381]
    # The Sentinels are asked as the same user, and never retried against: the next is asked.
    kwargs = sentinels[0].connection_pool.connection_kwargs
    assert (kwargs["username"], kwargs["password"], kwargs["socket_timeout"]) == ("idchat-http", "p", 2.0)
    assert kwargs["retry"].get_retries() == 0
    # Without Sentinel: one address, the same blocking pool.
    plain = connect(load_settings(environ={**COMMON, **TOKEN_KEYS}, role="http")).connection_pool
    assert type(plain) is BlockingConnectionPool


@pytest.mark.parametrize("env,problem", [
    ({"IDCHAT_REDIS_SENTINELS": "sentinel-1"}, "'sentinel-1' is not host:port"),
    ({"IDCHAT_REDIS_SENTINELS": "s1:26379,s2:port"}, "'s2:port' is not host:port"),
    ({"IDCHAT_REDIS_SENTINELS": ":26379"}, "is not host:port"),
    ({"IDCHAT_REDIS_SENTINELS": "s1:70000"}, "is not host:port"),
    ({"IDCHAT_REDIS_SENTINELS": "s1:26379", "IDCHAT_REDIS_SENTINEL_SERVICE": " "}, "sentinel_service"),
])
def test_unusable_sentinel_settings_are_refused(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**COMMON, **TOKEN_KEYS, **env}, role="http")
    assert problem in str(info.value)


def test_clock_leeway_is_bounded() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**COMMON, **TOKEN_KEYS, "IDCHAT_TOKENS_LEEWAY_SECONDS": str(10**30)},
                      role="http")
    assert "tokens.leeway_seconds must be at most 300" in str(info.value)


# -- demo parts only with demo.enabled ----------------------------------------------------------

SIMULATOR = {"IDCHAT_DEMO_CORE_SIMULATOR": "true",
             "IDCHAT_DEMO_ENCRYPTION_PUBKEY_TYPE": "RSA", "IDCHAT_DEMO_ENCRYPTION_PUBKEY_FILE": str(TEST_PUBKEY),
             "IDCHAT_DEMO_SIGNING_PRIVKEY_TYPE": "RSA", "IDCHAT_DEMO_SIGNING_PRIVKEY_FILE": str(TEST_PRIVKEY)}


def test_core_simulator_needs_the_demo_flag() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={**COMMON, **TOKEN_KEYS, **SIMULATOR}, role="http")
    assert "demo.core_simulator" in str(info.value) and "IDCHAT_DEMO_ENABLED=true" in str(info.value)
    s = load_settings(environ={**COMMON, **TOKEN_KEYS, **SIMULATOR, "IDCHAT_DEMO_ENABLED": "true"},
                      role="http")
    assert s.demo.core_simulator and s.demo.enabled


def test_published_test_keys_need_the_demo_flag(tmp_path: Path) -> None:
    settings = load_settings(environ={**COMMON, **TOKEN_KEYS}, role="http")
    with pytest.raises(SettingsError) as info:
        create_app(settings)
    assert [p.split(" is ")[0] for p in info.value.problems] == ["tokens.decryption_privkey",
                                                                 "tokens.signature_pubkey"]
    assert "PUBLISHED ID Contact test key" in str(info.value) and "IDCHAT_DEMO_ENABLED=true" in str(info.value)
    create_app(load_settings(environ={**COMMON, **TOKEN_KEYS, "IDCHAT_DEMO_ENABLED": "true"}, role="http"))
    # Keys of one's own need no flag.
    (tmp_path / "priv.pem").write_text(pem_private(other_rsa_key()))
    (tmp_path / "pub.pem").write_text(pem_public(ec_key(3)))
    own = {**TOKEN_KEYS, "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(tmp_path / "priv.pem"),
           "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "EC",
           "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(tmp_path / "pub.pem")}
    create_app(load_settings(environ={**COMMON, **own}, role="http"))
    # One test key among own keys is refused all the same.
    mixed = {**own, "IDCHAT_TOKENS_SIGNATURE_PUBKEY_TYPE": "RSA",
             "IDCHAT_TOKENS_SIGNATURE_PUBKEY_FILE": str(TEST_PUBKEY)}
    with pytest.raises(SettingsError) as info:
        create_app(load_settings(environ={**COMMON, **mixed}, role="http"))
    assert [p.split(" is ")[0] for p in info.value.problems] == ["tokens.signature_pubkey"]


def test_an_unusable_key_file_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / "garbage.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n")
    env = {**COMMON, **TOKEN_KEYS, "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE": str(tmp_path / "garbage.pem"),
           "IDCHAT_DEMO_ENABLED": "true"}
    with pytest.raises(SettingsError) as info:
        create_app(load_settings(environ=env, role="http"))
    assert info.value.problems[0].startswith("tokens.decryption_privkey: unusable key")
    assert "not a key" not in str(info.value)


def test_oidc_agents_need_their_settings_and_only_the_http_service_reads_the_secrets(
        tmp_path: Path) -> None:
    base = {"IDCHAT_STORE_ATTRIBUTES_KEY": base64.b64encode(b"k" * 32).decode(),
            "IDCHAT_AGENTS_MODE": "oidc",
            "IDCHAT_XMPP_COMPONENT_SECRET": "s"}
    with pytest.raises(SettingsError) as refused:
        load_settings(environ={**base, "IDCHAT_AGENTS_ID_TOKEN_ALGORITHMS": "RS256,none",
                               "IDCHAT_AGENTS_CREDENTIAL_KEY": "short",
                               "IDCHAT_AGENTS_GROUP_PURPOSES": "no-equals-sign"}, role="http")
    text = "\n".join(refused.value.problems)
    for needed in ("agents.issuer", "agents.client_id", "agents.client_secret",
                   "agents.credential_key must be at least 32 bytes", "never none or HS*",
                   "agents.group_purposes"):
        assert needed in text, text
    # The component reads agents.mode, never the client secret or the credential key: a
    # secret file that is not there stops the HTTP service and not the component.
    missing = {**base, "IDCHAT_AGENTS_CLIENT_SECRET_FILE": str(tmp_path / "absent"),
               "IDCHAT_AGENTS_CREDENTIAL_KEY_FILE": str(tmp_path / "absent")}
    settings = load_settings(environ=missing, role="component")
    assert settings.agents.mode == "oidc" and settings.agents.client_secret_file == ""
    with pytest.raises(SettingsError) as refused:
        load_settings(environ=missing, role="http")
    assert "agents.client_secret_file: no such file" in "\n".join(refused.value.problems)


# -- authentication during the chat (docs/protocol.md §11) -----------------------------------


def test_only_the_component_reads_the_request_signing_key() -> None:
    auth = {"IDCHAT_AUTH_CORE_URL": "https://core.example.nl", "IDCHAT_AUTH_REQUESTOR": "idchat",
            "IDCHAT_AUTH_REQUEST_PRIVKEY_TYPE": "RSA", "IDCHAT_AUTH_REQUEST_PRIVKEY_FILE": str(TEST_PRIVKEY)}
    component = load_settings(environ={**COMMON, **auth, "IDCHAT_XMPP_COMPONENT_SECRET": "s"}, role="component")
    assert component.auth.request_privkey.file == str(TEST_PRIVKEY) and component.auth.enabled
    http = load_settings(environ={**COMMON, **TOKEN_KEYS, **auth,
                                  "IDCHAT_AUTH_REQUEST_PRIVKEY_FILE": "/nonexistent/key.pem"}, role="http")
    assert http.auth.request_privkey == KeyConfig() and http.auth.core_url == "https://core.example.nl"
    with pytest.raises(SettingsError) as info:          # the component needs it, and a usable one
        load_settings(environ={**COMMON, "IDCHAT_XMPP_COMPONENT_SECRET": "s",
                               "IDCHAT_AUTH_CORE_URL": "https://core.example.nl/", "IDCHAT_AUTH_REQUESTOR": "a b"},
                      role="component")
    problems = " | ".join(info.value.problems)
    assert "auth.core_url must be an http(s) URL without a trailing slash" in problems
    assert "auth.requestor is required" in problems and "auth.request_privkey is required" in problems
    off = load_settings(environ={**COMMON, "IDCHAT_XMPP_COMPONENT_SECRET": "s"}, role="component")
    assert not off.auth.enabled                          # off by default: nothing required
