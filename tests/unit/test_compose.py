"""docker-compose.yml and the Dockerfile, checked without a container engine.

No Docker engine runs where the tests run, so these tests read the two files
and hold them to what the project promises: every service has a health check;
host ports are bound to 127.0.0.1; everything mounted or built from exists in
the repository; every variable is an ID Chat setting or documented in the
compose file's header; secrets are required, never defaulted or written down;
the environment each container gets is read by the program in it; the pieces
are wired to each other (ports, hosts, secrets); Redis keeps nothing on disk;
the ejabberd config renders from the template exactly as the compose job does;
the Dockerfile copies only what exists and runs as a non-root user.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import shlex
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from xmpp_plugin.app import CONVERSE_DIST, WEB_DIR
from xmpp_plugin.settings import ENV_PREFIX, ROLE_ONLY, Settings, XmppSettings, setting_names

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

OUR_PROCESSES = ("xmpp_plugin", "component")  # `python -m <one of these>` reads the settings
ROLE_OF = {"xmpp_plugin": "http", "component": "component"}   # load_settings(role=...)
SECRETS_DIR = "/run/secrets/"
LOOPBACK = "127.0.0.1"
DUMMY_SECRET = "compose-test-secret"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, $NAME
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_DOCUMENTED = re.compile(r"^#\s+([A-Z][A-Z0-9_]*)\s+\((required|optional)\)")


# -- reading the files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE.is_file(), "docker-compose.yml is missing"
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def documented() -> dict[str, bool]:
    """Variables the compose header documents: name -> required."""
    names: dict[str, bool] = {}
    for line in COMPOSE.read_text().splitlines():
        if not line.startswith("#"):
            break  # the header is the leading comment block
        match = _DOCUMENTED.match(line)
        if match:
            names[match.group(1)] = match.group(2) == "required"
    return names


def setting_env_names() -> set[str]:
    """IDCHAT_SECTION_FIELD (IDCHAT_SECTION_FIELD_SUB for keys) for every setting, and IDCHAT_CONFIG."""
    names = {ENV_PREFIX + name.replace(".", "_").upper() for name in setting_names()}
    return names | {ENV_PREFIX + "CONFIG"}


def secret_setting_env_names() -> set[str]:
    """Settings whose fields are kept out of repr: the component secret, the attributes key, inline keys."""
    found: set[str] = set()

    def walk(cls: type, prefix: tuple[str, ...]) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], prefix + (f.name,))
            elif not f.repr:
                found.add(ENV_PREFIX + "_".join(prefix + (f.name,)).upper())

    walk(Settings, ())
    assert {"IDCHAT_XMPP_COMPONENT_SECRET", "IDCHAT_STORE_ATTRIBUTES_KEY"} <= found
    return found


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string value in the parsed file (compose interpolates values, not keys)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def interpolations(value: str) -> list[tuple[str, str]]:
    """(name, operator) of every ${...}/$NAME in a value; `$$` is a literal dollar."""
    value = value.replace("$$", "")
    found = [(m.group(1), m.group(2) or "") for m in _BRACED.finditer(value)]
    rest = _BRACED.sub("", value)
    found += [(m.group(1), "") for m in _BARE.finditer(rest)]
    return found


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["NAME=value", "NAME"]
        return {item.partition("=")[0]: (item.partition("=")[2] if "=" in item else None) for item in env}
    return {name: (None if value is None else str(value)) for name, value in env.items()}


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def runs_our_process(service: dict[str, Any]) -> str | None:
    text = command_text(service)
    for module in OUR_PROCESSES:
        if re.search(rf"python3? -m {module}\b", text):
            return module
    return None


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    assert isinstance(deps, dict), "depends_on must use the long form with a condition"
    return deps


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of every bind mount; named volumes are left out."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
        else:
            source, _, rest = volume.partition(":")
            if source.startswith((".", "/", "~")):
                mounts.append((source, rest.partition(":")[0]))
    return mounts


def named_volumes(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(volume, target) of every named volume mount."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume":
                mounts.append((volume["source"], volume["target"]))
        else:
            source, _, rest = volume.partition(":")
            if rest and not source.startswith((".", "/", "~")):
                mounts.append((source, rest.partition(":")[0]))
    return mounts


def repo_path(source: str) -> Path:
    path = (ROOT / source).resolve()
    assert path == ROOT or ROOT in path.parents, f"{source} points outside the repository"
    return path


def long_running(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Services, without one-shot jobs (those that others wait for to complete)."""
    jobs = {dep for s in services.values() for dep, how in depends_on(s).items()
            if how.get("condition") == "service_completed_successfully"}
    return {name: s for name, s in services.items() if name not in jobs}


# -- compose ------------------------------------------------------------------------


def test_every_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck")
        assert isinstance(check, dict) and not check.get("disable"), f"{name}: no healthcheck"
        test = check.get("test")
        assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, \
            f"{name}: healthcheck.test must be [CMD, ...] or [CMD-SHELL, ...]"


def test_dependencies_wait_for_a_condition(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dep, how in depends_on(service).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            condition = how.get("condition")
            assert condition in {"service_healthy", "service_completed_successfully"}, \
                f"{name} -> {dep}: condition {condition!r} waits for nothing"
            if condition == "service_completed_successfully":
                assert services[dep].get("restart", "no") == "no", f"{dep} is a job: restart: \"no\""


def test_services_keep_running(services: dict[str, dict[str, Any]]) -> None:
    for name, service in long_running(services).items():
        assert service.get("restart") in {"unless-stopped", "always"}, f"{name}: restart policy"


def test_host_ports_are_bound_to_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("network_mode") != "host", f"{name}: host networking bypasses the bindings"
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                host_ip = port.get("host_ip")
            else:
                parts = str(port).split("/")[0].rsplit(":", 2)
                host_ip = parts[0] if len(parts) == 3 else None
            assert host_ip == LOOPBACK, f"{name}: port {port!r} is not bound to {LOOPBACK}"


def test_everything_mounted_or_built_exists_in_the_repository(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            assert repo_path(context).is_dir(), f"{name}: build context {context} does not exist"
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert (repo_path(context) / dockerfile).is_file(), f"{name}: {dockerfile} does not exist"
        for source, _ in bind_mounts(service):
            assert not interpolations(source), f"{name}: bind mount {source} depends on the environment"
            assert repo_path(source).exists(), f"{name}: {source} does not exist in the repository"
        declared_volumes = set(compose.get("volumes") or {})
        for volume, _ in named_volumes(service):
            assert volume in declared_volumes, f"{name}: volume {volume} is not declared"
        declared_networks = set(compose.get("networks") or {}) | {"default"}
        for network in service.get("networks") or []:
            assert network in declared_networks, f"{name}: network {network} is not declared"
        declared_secrets = set(compose.get("secrets") or {})
        for secret in service.get("secrets") or []:
            secret = secret if isinstance(secret, str) else secret["source"]
            assert secret in declared_secrets, f"{name}: secret {secret} is not declared"
    for kind in ("secrets", "configs"):
        for name, spec in (compose.get(kind) or {}).items():
            file = spec.get("file")
            if file and not interpolations(file):
                assert repo_path(file).is_file(), f"{kind} {name}: {file} does not exist"


def test_every_variable_is_a_setting_or_documented(compose: dict[str, Any],
                                                   documented: dict[str, bool]) -> None:
    known = setting_env_names()
    used: set[str] = set()
    for path, value in strings(compose):
        for name, _ in interpolations(value):
            used.add(name)
            assert name in known or name in documented, \
                f"{path}: ${{{name}}} is neither an ID Chat setting nor documented in the header"
    assert not (set(documented) & known), "the header documents settings as extra variables"
    stale = set(documented) - used
    assert not stale, f"the header documents variables the file does not use: {sorted(stale)}"


def test_secrets_are_required_never_defaulted(compose: dict[str, Any], documented: dict[str, bool]) -> None:
    secrets = secret_setting_env_names() | {name for name, required in documented.items() if required}
    for path, value in strings(compose):
        for name, operator in interpolations(value):
            if name in secrets:
                assert operator in {":?", "?"}, f"{path}: secret ${{{name}}} must be required (:?), not {operator!r}"
    for service_name, service in compose["services"].items():
        for name, value in environment(service).items():
            if name in secret_setting_env_names():
                assert value is not None and re.fullmatch(rf"\$\{{{name}:\?[^}}]+\}}", value), \
                    f"{service_name}: {name} must be exactly ${{{name}:?message}}"
    for name, spec in (compose.get("secrets") or {}).items():
        file = spec.get("file", "")
        assert [op for _, op in interpolations(file)] == [":?"], \
            f"secret {name}: its file must come from a required variable, not from the repository"


def test_each_container_gets_only_variables_its_program_reads(services: dict[str, dict[str, Any]]) -> None:
    settings = setting_env_names()
    for name, service in services.items():
        idchat = [var for var in environment(service) if var.startswith(ENV_PREFIX)]
        if runs_our_process(service):
            unknown = [var for var in idchat if var not in settings]
            assert not unknown, f"{name}: not ID Chat settings (typo?): {unknown}"
            continue
        # another program (Prosody, the ejabberd render job) reads them from the files it gets mounted
        readers = [repo_path(source) for source, _ in bind_mounts(service) if repo_path(source).is_file()]
        text = "\n".join(path.read_text() for path in readers)
        unread = [var for var in idchat if not re.search(rf"[\"'@]{var}[\"'@]", text)]
        assert not unread, f"{name}: {unread} are read by none of its mounted files {[str(p.relative_to(ROOT)) for p in readers]}"


def test_the_pieces_are_wired_to_each_other(services: dict[str, dict[str, Any]]) -> None:
    components = {n: s for n, s in services.items() if runs_our_process(s) == "component"}
    https = {n: s for n, s in services.items() if runs_our_process(s) == "xmpp_plugin"}
    assert components and https
    ours = {**components, **https}
    for name, service in ours.items():
        redis_host = urlsplit(environment(service)["IDCHAT_REDIS_URL"] or "").hostname
        assert redis_host in services, f"{name}: IDCHAT_REDIS_URL names no service"
        assert depends_on(service).get(redis_host, {}).get("condition") == "service_healthy"
    for setting in ("IDCHAT_REDIS_URL", "IDCHAT_REDIS_KEY_PREFIX", "IDCHAT_STORE_ATTRIBUTES_KEY",
                    "IDCHAT_STORE_SESSION_TTL_SECONDS", "IDCHAT_XMPP_COMPONENT_DOMAIN",
                    "IDCHAT_XMPP_MUC_DOMAIN", "IDCHAT_XMPP_GUEST_DOMAIN", "IDCHAT_XMPP_AGENT_DOMAIN"):
        values = {environment(s).get(setting, "unset") for s in ours.values()}
        assert len(values) == 1, f"{setting} differs between the HTTP service and the component"
    for name, service in https.items():
        assert "IDCHAT_XMPP_COMPONENT_SECRET" not in environment(service), \
            f"{name}: the HTTP service never talks XMPP and must not hold the component secret"
    for name, service in components.items():
        env = environment(service)
        server_name = env["IDCHAT_XMPP_COMPONENT_HOST"]
        assert server_name in services, f"{name}: IDCHAT_XMPP_COMPONENT_HOST names no service"
        # the server's own environment, or (ejabberd) that of the job rendering its config
        server = {}
        for source in [*depends_on(services[server_name]), server_name]:
            server.update(environment(services[source]))
        for setting in ("IDCHAT_XMPP_COMPONENT_PORT", "IDCHAT_XMPP_COMPONENT_SECRET",
                        "IDCHAT_XMPP_COMPONENT_DOMAIN", "IDCHAT_XMPP_MUC_DOMAIN"):
            assert env.get(setting, "unset") == server.get(setting, "unset"), \
                f"{name} and {server_name} disagree on {setting}"
        assert depends_on(service).get(server_name, {}).get("condition") == "service_healthy"
        assert set(service.get("profiles") or []) == set(services[server_name].get("profiles") or [])


def mounted_secrets(service: dict[str, Any]) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in service.get("secrets") or []}


def secret_references(service: dict[str, Any]) -> set[str]:
    """Secrets the service's environment or command points at (/run/secrets/<name>)."""
    refs = set()
    for _, value in strings({"environment": service.get("environment"),
                             "command": service.get("command")}):
        refs.update(re.findall(re.escape(SECRETS_DIR) + r"([A-Za-z0-9_.-]+)", value))
    return refs


def setting_of(env_name: str) -> str | None:
    """The dotted setting an IDCHAT_* variable sets (tokens.decryption_privkey.file ...)."""
    for name in setting_names():
        if ENV_PREFIX + name.replace(".", "_").upper() == env_name:
            return name
    return None


def test_each_secret_is_mounted_only_into_the_service_that_uses_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose.get("secrets") or {})
    holders: dict[str, set[str]] = {name: set() for name in declared}
    def renders(service: dict[str, Any]) -> bool:
        return "--render-to" in " ".join(service.get("command") or [])

    rendered = {name: secret_references(service) for name, service in services.items()
                if renders(service)}
    for name, service in services.items():
        mounted, referenced = mounted_secrets(service), secret_references(service)
        if not renders(service):
            # Secrets a render job of the same profile wrote into this service's config.
            referenced = referenced | {secret for job, refs in rendered.items()
                                       for secret in refs
                                       if set(services[job].get("profiles") or [])
                                       & set(service.get("profiles") or [])
                                       and secret in mounted}
        if renders(service):
            # A job that only writes another service's config names the secret paths
            # that service will read; it holds no secret itself.
            assert not mounted, f"{name} renders a config and must not hold secrets"
            readers = [n for n, other in services.items() if n != name
                       and referenced <= mounted_secrets(other)
                       and set(other.get("profiles") or []) & set(service.get("profiles") or [])]
            assert readers, f"{name} names secrets {sorted(referenced)} no service of its profile mounts"
            continue
        assert mounted == referenced, \
            f"{name}: mounts {sorted(mounted - referenced)} that it never reads, or reads " \
            f"{sorted(referenced - mounted)} that are not mounted"
        for secret in mounted:
            holders[secret].add(name)
    assert all(holders.values()), f"declared but mounted nowhere: {[s for s, h in holders.items() if not h]}"
    roles = {name: ROLE_OF.get(runs_our_process(service) or "", name) for name, service in services.items()}
    where = {secret: {roles[n] for n in names} for secret, names in holders.items()}
    # what the project promises (docs/deployment.md, "Secrets and least privilege")
    assert where == {"tokens_decryption_privkey": {"http"}, "tokens_signature_pubkey": {"http"},
                     "redis_http_password": {"http"}, "redis_component_password": {"component"},
                     "redis_acl": {"redis"},
                     "xmpp_tls_cert": {"prosody", "ejabberd"},
                     "xmpp_tls_key": {"prosody", "ejabberd"}}, where


def test_each_of_our_containers_gets_only_the_settings_of_its_role(
        services: dict[str, dict[str, Any]]) -> None:
    seen_roles = set()
    for name, service in services.items():
        module = runs_our_process(service)
        if module is None:
            continue
        role = ROLE_OF[module]
        seen_roles.add(role)
        for var in environment(service):
            setting = setting_of(var)
            owner = next((r for prefix, r in ROLE_ONLY.items()
                          if setting and (setting == prefix or setting.startswith(prefix + "."))), role)
            assert owner == role, f"{name} ({role}) gets {var}, which only the {owner} process reads"
    assert seen_roles == set(ROLE_OF.values())
    # positive control: the scan sees role-only settings where they belong
    http_env = environment(services["http"])
    assert "IDCHAT_TOKENS_DECRYPTION_PRIVKEY_FILE" in http_env
    assert "IDCHAT_XMPP_COMPONENT_SECRET" in environment(services["component"])


def test_redis_runs_with_its_acl_and_one_user_per_role(services: dict[str, dict[str, Any]]) -> None:
    from redis_server import COMPONENT_USER, HTTP_USER
    command = services["redis"]["command"]
    assert command[command.index("--aclfile") + 1] == SECRETS_DIR + "redis_acl"
    users: dict[str, set[str]] = {}
    passwords: dict[str, set[str]] = {}
    for service in services.values():
        module = runs_our_process(service)
        if module is None:
            continue
        env = environment(service)
        users.setdefault(ROLE_OF[module], set()).add(env.get("IDCHAT_REDIS_USERNAME") or "")
        passwords.setdefault(ROLE_OF[module], set()).add(env.get("IDCHAT_REDIS_PASSWORD_FILE") or "")
        assert "IDCHAT_REDIS_PASSWORD" not in env, "the Redis password comes from a secret file"
    assert users == {"http": {HTTP_USER}, "component": {COMPONENT_USER}}
    assert passwords == {"http": {SECRETS_DIR + "redis_http_password"},
                         "component": {SECRETS_DIR + "redis_component_password"}}


def test_published_ports_match_the_urls_handed_to_browsers(services: dict[str, dict[str, Any]]) -> None:
    # The compose file leaves http.external_url and xmpp.websocket_url at their
    # defaults (passed through only when set): the published ports must match them.
    websocket_port = urlsplit(XmppSettings().websocket_url).port
    for name, service in services.items():
        published = [int(str(p).split("/")[0].rsplit(":", 2)[1]) for p in service.get("ports") or []]
        if runs_our_process(service) == "xmpp_plugin":
            assert published == [8002], f"{name}: publish 127.0.0.1:8002 (http.external_url's default)"
        elif published and "monitoring" in (service.get("profiles") or []):
            continue  # Prometheus and Grafana: test_monitoring_profile_scrapes_both_processes
        elif published:
            assert published == [websocket_port], f"{name}: publish the WebSocket port {websocket_port}"
            own = environment(service).get("IDCHAT_XMPP_HTTP_PORT")
            renderers = [environment(services[d]) for d in depends_on(service)]
            own = own or next((r["IDCHAT_XMPP_HTTP_PORT"] for r in renderers if "IDCHAT_XMPP_HTTP_PORT" in r), None)
            container_port = int(str(service["ports"][0]).split("/")[0].rsplit(":", 1)[1])
            assert own is not None and int(own) == container_port, f"{name}: WebSocket port is not the one it listens on"


def test_default_stack_is_complete_and_ejabberd_is_a_profile(services: dict[str, dict[str, Any]]) -> None:
    default = {n for n, s in services.items() if not s.get("profiles")}
    for name in default:
        for dep in depends_on(services[name]):
            assert dep in default, f"{name} (default) depends on {dep}, which is in a profile"
    assert {runs_our_process(services[n]) for n in default} >= set(OUR_PROCESSES)
    ejabberd = {n for n, s in services.items() if "ejabberd" in (s.get("profiles") or [])}
    assert "ejabberd" in ejabberd and any(runs_our_process(services[n]) == "component" for n in ejabberd)


def test_redis_keeps_nothing_on_disk_and_is_not_reachable_from_outside(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert isinstance(command, list)
    assert command[command.index("--save") + 1] == "", "RDB snapshots must be off (--save \"\")"
    assert command[command.index("--appendonly") + 1] == "no", "the AOF must be off"
    assert not redis.get("volumes") and not redis.get("ports")
    for network in redis.get("networks") or ["default"]:
        assert (compose.get("networks") or {}).get(network, {}).get("internal") is True, \
            f"redis is on {network}, which is not an internal network"


def test_ejabberd_config_renders_as_the_compose_job_does(services: dict[str, dict[str, Any]],
                                                         tmp_path: Path) -> None:
    job = services["ejabberd-config"]
    command = command_text(job)
    match = re.search(r"python (scripts/ejabberd_server\.py .*?--render-to) (/\S+)", command)
    assert match, "the job renders with scripts/ejabberd_server.py --render-to DIR"
    rendered_dir = match.group(2)
    env = {"PATH": "/usr/bin:/bin"}
    for name, value in environment(job).items():
        if value is None:
            continue  # passed through when set; the script's defaults apply here
        m = _BRACED.fullmatch(value)
        env[name] = (DUMMY_SECRET if m.group(2) in {":?", "?"} else m.group(3)) if m else value
    result = subprocess.run([sys.executable, *shlex.split(match.group(1)), str(tmp_path)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((tmp_path / "ejabberd.yml").read_text())
    listen_ip = env["IDCHAT_EJABBERD_INTERFACE"]
    ports = {entry["module"]: entry for entry in config["listen"]}
    assert {entry["ip"] for entry in config["listen"]} == {listen_ip}
    assert ports["ejabberd_c2s"]["port"] == int(env["IDCHAT_XMPP_C2S_PORT"])
    assert ports["ejabberd_http"]["port"] == int(env["IDCHAT_XMPP_HTTP_PORT"])
    assert ports["ejabberd_service"]["port"] == int(env["IDCHAT_XMPP_COMPONENT_PORT"])
    (component_domain, service), = ports["ejabberd_service"]["hosts"].items()
    assert component_domain == XmppSettings().component_domain and service["password"] == DUMMY_SECRET
    # ejabberd reads that file from the volume the job wrote it to
    server = services["ejabberd"]
    (volume, _), = [(v, t) for v, t in named_volumes(job) if t == rendered_dir]
    mounted_at = dict(named_volumes(server))[volume]
    assert environment(server)["EJABBERD_CONFIG_PATH"] == f"{mounted_at}/ejabberd.yml"


# -- Dockerfile ---------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    assert DOCKERFILE.is_file(), "Dockerfile is missing"
    out, buffer = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, args = buffer.partition(" ")
        out.append((keyword.upper(), args.strip()))
        buffer = ""
    return out


def stages() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(base image, stage name, instructions) per FROM, with ARG defaults resolved in FROM."""
    args: dict[str, str] = {}
    result: list[tuple[str, str, list[tuple[str, str]]]] = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            result.append((base, name, []))
        else:
            assert result, f"{keyword} before the first FROM"
            result[-1][2].append((keyword, rest))
    return result


def copy_parts(args: str) -> tuple[dict[str, str], list[str], str]:
    """(flags, sources, destination) of a COPY/ADD in shell or JSON form."""
    words = shlex.split(args)
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    if words and words[0].startswith("["):
        words = json.loads(" ".join(words))
    return flags, words[:-1], words[-1]


def test_dockerfile_copy_sources_exist() -> None:
    names = {name for _, name, _ in stages() if name}
    copied = 0
    for _, _, instructions in stages():
        for keyword, args in instructions:
            if keyword not in {"COPY", "ADD"}:
                continue
            flags, sources, _ = copy_parts(args)
            if "from" in flags:
                assert flags["from"] in names, f"COPY --from={flags['from']}: no such stage"
                continue
            for source in sources:
                assert repo_path(source).exists(), f"COPY {source}: not in the repository"
                copied += 1
    assert copied


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    if not DOCKERIGNORE.is_file():
        pytest.skip("no .dockerignore")
    patterns = [p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]
    for _, _, instructions in stages():
        for keyword, args in instructions:
            flags, sources, _ = copy_parts(args) if keyword in {"COPY", "ADD"} else ({}, [], "")
            for source in sources if "from" not in flags else []:
                path = source.rstrip("/").removeprefix("./")
                candidates = [path] + [str(p) for p in Path(path).parents if str(p) != "."]
                excluded = False
                for pattern in patterns:
                    negate = pattern.startswith("!")
                    pattern = pattern.lstrip("!").strip("/")
                    if any(fnmatch.fnmatch(c, pattern) for c in candidates):
                        excluded = not negate
                assert not excluded, f".dockerignore excludes {source}, which the Dockerfile copies"


def test_image_serves_the_web_folder_where_the_code_looks_for_it() -> None:
    *_, (base, _, final) = stages()
    assert base.startswith("python:3.11-slim"), base
    workdir = [args for keyword, args in final if keyword == "WORKDIR"][-1]
    sources = [s for k, a in final if k == "COPY" for s in copy_parts(a)[1] if "from" not in copy_parts(a)[0]]
    for folder in ("templates", "static", "idchat"):
        relative = str((WEB_DIR / folder).relative_to(ROOT))
        assert any(s.rstrip("/") == relative for s in sources), f"the image lacks {relative}"
    converse = [copy_parts(a) for k, a in final if k == "COPY" and "from" in copy_parts(a)[0]]
    destinations = {str(Path(workdir) / dest.rstrip("/")) for _, _, dest in converse}
    assert str(Path(workdir) / CONVERSE_DIST.relative_to(ROOT)) in destinations, \
        "Converse.js dist must land where xmpp_plugin/app.py serves /converse/ from"
    node = [instr for b, _, instr in stages() if b.startswith("node:")]
    assert node and any(k == "RUN" and "npm ci" in a for k, a in node[0])


def test_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    *_, (_, _, final) = stages()
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the image must not run as root"
    healthchecks = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    assert healthchecks and "/healthz" in healthchecks[-1]
    cmd = [args for keyword, args in final if keyword == "CMD"][-1]
    assert json.loads(cmd) == ["python", "-m", "xmpp_plugin"]


def test_monitoring_profile_scrapes_both_processes(compose: dict[str, Any]) -> None:
    """Prometheus and Grafana only in the monitoring profile; Prometheus's targets are
    our services on their metrics ports, on a network both share; its rules file and
    Grafana's provisioning are mounted where the configurations look for them."""
    services = compose["services"]
    monitoring = {n for n, s in services.items() if "monitoring" in (s.get("profiles") or [])}
    assert monitoring == {"prometheus", "grafana"}
    prom = services["prometheus"]
    mounts = dict(bind_mounts(prom))
    config = yaml.safe_load(repo_path(next(src for src, dst in mounts.items()
                                           if dst.startswith("/etc/prometheus/prometheus.yml"))).read_text())
    rules_in_container = {dst.split(":")[0] for dst in mounts.values()}
    assert set(config["rule_files"]) <= rules_in_container
    targets = {job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
               for job in config["scrape_configs"]}
    scraped: dict[str, int] = {}
    for job in targets.values():
        for target in job:
            host, port = target.rsplit(":", 1)
            scraped[host] = int(port)
    ours = {n: s for n, s in services.items() if runs_our_process(s)}
    assert set(scraped) == set(ours), "every process of ours is scraped, nothing else"
    for name, port in scraped.items():
        env = environment(ours[name])
        if runs_our_process(ours[name]) == "component":
            assert env["IDCHAT_METRICS_COMPONENT_PORT"] == str(port)
            assert env["IDCHAT_METRICS_COMPONENT_HOST"] == "0.0.0.0"
        else:
            assert port == 8002
        assert set(ours[name]["networks"]) & set(prom["networks"]), f"{name} unreachable"
    assert not any(str(p).startswith(("9102", "127.0.0.1:9102")) for s in ours.values()
                   for p in s.get("ports") or []), "the component's metrics are never published"
    grafana = dict(bind_mounts(services["grafana"]))
    provisioning = repo_path(next(src for src, dst in grafana.items()
                                  if dst.startswith("/etc/grafana/provisioning")))
    provider = yaml.safe_load((provisioning / "dashboards" / "idchat.yml").read_text())
    dashboards_at = provider["providers"][0]["options"]["path"]
    assert any(dst.split(":")[0] == dashboards_at for dst in grafana.values())
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert datasource["datasources"][0]["url"].startswith("http://prometheus:")
    dashboard_dir = repo_path(next(src for src, dst in grafana.items() if dst.startswith(dashboards_at)))
    for path in dashboard_dir.glob("*.json"):
        used = {p["datasource"]["uid"] for p in json.loads(path.read_text())["panels"]}
        assert used == {uid}, f"{path.name}: panels use a data source Grafana is not given"
