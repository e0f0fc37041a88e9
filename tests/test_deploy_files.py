"""Dockerfile, compose.yaml (with its profile `several`), the Caddyfile and the systemd units keep
the invariants operators rely on."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each Dockerfile instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines()]
    found = []
    for line in lines:
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_dockerfile() -> None:
    found = instructions((ROOT / "Dockerfile").read_text())
    values = {keyword: [rest for k, rest in found if k == keyword] for keyword, _ in found}
    assert values["FROM"] == ["python:3.11-slim"]
    assert found[-1] == ("CMD", '["python", "-m", "bot"]')
    [user] = values["USER"]
    assert user not in ("root", "0")
    # USER comes after every RUN, so nothing runs as root at run time.
    assert max(i for i, (k, _) in enumerate(found) if k == "RUN") < found.index(("USER", user))
    assert values["VOLUME"] == ['["/data"]']
    env = " ".join(values["ENV"])
    assert "DATA_DIR=/data" in env
    assert "METRICS_PORT=9090" in env
    assert "METRICS_HOST=0.0.0.0" in env
    [healthcheck] = values["HEALTHCHECK"]
    assert "urllib.request" in healthcheck
    assert "http://127.0.0.1:${METRICS_PORT}/healthz" in healthcheck
    [install] = [run for run in values["RUN"] if "pip install" in run]
    assert "[dev]" not in install
    assert values["WORKDIR"]


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".git", ".venv/", "data/"):
        assert entry in ignored


def test_compose_file() -> None:
    text = (ROOT / "compose.yaml").read_text()
    assert re.search(r"^services:\n  iris:\n", text, re.MULTILINE)
    assert re.search(r"^    env_file: \.env$", text, re.MULTILINE)
    assert re.search(r"^    restart: unless-stopped$", text, re.MULTILINE)
    assert re.search(r"^      - iris-data:/data$", text, re.MULTILINE)
    assert re.search(r"^volumes:\n  iris-data:", text, re.MULTILINE)
    # .env from .env.example says DATA_DIR=./data; the volume only works if compose overrides it.
    assert re.search(r"^      DATA_DIR: /data$", text, re.MULTILINE)
    assert "\t" not in text  # YAML forbids tabs for indentation


def read_unit(name: str) -> configparser.ConfigParser:
    """A systemd unit of deploy/ as sections of case-sensitive keys (a repeated key: the last)."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string((ROOT / "deploy" / name).read_text())
    return unit


def test_systemd_unit() -> None:
    unit = read_unit("iris.service")
    service = unit["Service"]
    assert re.fullmatch(r"/\S+/bin/python -m bot", service["ExecStart"])
    assert service["Restart"] == "on-failure"
    assert service["User"] not in ("root", "0")
    assert service["WorkingDirectory"].startswith("/")
    assert service["EnvironmentFile"].startswith("/")
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["ReadWritePaths"] == "/var/lib/iris"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_worker_unit_is_the_service_running_jobs_only() -> None:
    worker, iris = read_unit("iris-worker@.service"), read_unit("iris.service")
    assert worker["Service"]["ExecStart"] == iris["Service"]["ExecStart"] + " worker"
    # The worker's own file comes second (optional: `-`), so its METRICS_PORT wins over iris.env.
    text = (ROOT / "deploy" / "iris-worker@.service").read_text()
    files = re.findall(r"^EnvironmentFile=(.*)$", text, re.MULTILINE)
    assert files == [iris["Service"]["EnvironmentFile"], "-/etc/iris/worker-%i.env"]
    differ = {"ExecStart", "EnvironmentFile", "Description"}
    for section in ("Unit", "Service", "Install"):
        same = {k: v for k, v in iris[section].items() if k not in differ}
        assert {k: v for k, v in worker[section].items() if k not in differ} == same


def load_compose(text: str | None = None) -> dict[str, Any]:
    """compose.yaml as compose reads it, anchors and merge keys resolved (no interpolation)."""
    loaded: dict[str, Any] = yaml.safe_load(text or (ROOT / "compose.yaml").read_text())
    return loaded


def profile(services: dict[str, Any], name: str | None) -> dict[str, Any]:
    """The services of a profile; None: those without one, which every `up` starts."""
    return {
        key: service
        for key, service in services.items()
        if (name in service.get("profiles", [])) or (name is None and "profiles" not in service)
    }


def caddy_proxy() -> tuple[str, list[str], dict[str, list[str]]]:
    """The Caddyfile's site address, reverse_proxy upstreams and subdirectives."""
    lines = [
        line.split()
        for line in (ROOT / "deploy" / "Caddyfile").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    [site] = [words[0] for words in lines if words[-1] == "{" and len(words) == 2]
    [index] = [i for i, words in enumerate(lines) if words[0] == "reverse_proxy"]
    upstreams = [word for word in lines[index][1:] if word != "{"]
    block = {}
    for words in lines[index + 1 :]:
        if words == ["}"]:
            break
        block[words[0]] = words[1:]
    return site, upstreams, block


def test_default_setup_stays_one_sqlite_instance() -> None:
    services = load_compose()["services"]
    assert list(profile(services, None)) == ["iris"]
    iris = services["iris"]
    assert iris["environment"] == {
        "DATA_DIR": "/data",
        "METRICS_HOST": "0.0.0.0",
        "METRICS_PORT": "9090",
    }
    assert "depends_on" not in iris
    assert not any("redis" in str(service.get("image", "")) for service in services.values())


def test_several_profile_runs_two_instances_on_one_postgres() -> None:
    services = load_compose()["services"]
    several = profile(services, "several")
    assert sorted(several) == ["caddy", "iris-1", "iris-2", "postgres"]
    postgres = several["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in postgres["healthcheck"]["test"]
    [volume] = postgres["volumes"]
    name, path = volume.split(":")
    assert path == "/var/lib/postgresql/data"
    assert name in load_compose()["volumes"]

    instances = [several["iris-1"], several["iris-2"]]
    assert instances[0] == instances[1]  # same database, same public URL, same image
    instance = instances[0]
    assert (instance["build"], instance["image"]) == (
        services["iris"]["build"],
        services["iris"]["image"],
    )
    assert instance["env_file"] == ".env"  # BOT_TOKEN and KEYS_SECRET, one for all
    assert instance["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # A stop as long as systemd's, so a graceful stop can release the instance's job leases.
    timeout = read_unit("iris.service")["Service"]["TimeoutStopSec"]
    assert instance["stop_grace_period"] == f"{timeout}s"
    environment = instance["environment"]
    database = urlsplit(environment["DATABASE_URL"])
    assert (database.scheme, database.hostname, database.path) == (
        "postgresql",
        "postgres",
        "/iris",
    )
    assert database.username == postgres["environment"]["POSTGRES_USER"]
    assert database.password == postgres["environment"]["POSTGRES_PASSWORD"]
    assert urlsplit(environment["WEBHOOK_URL"]).scheme == "https"
    assert (environment["WEBHOOK_HOST"], environment["METRICS_HOST"]) == ("0.0.0.0", "0.0.0.0")
    # The image's HEALTHCHECK asks /healthz on METRICS_PORT; the proxy's health checks too.
    assert "${METRICS_PORT}/healthz" in (ROOT / "Dockerfile").read_text()


def test_proxy_sends_the_public_url_to_exactly_the_instances() -> None:
    services = load_compose()["services"]
    caddy = services["caddy"]
    instances = {
        key: s for key, s in profile(services, "several").items() if key.startswith("iris")
    }
    environment = next(iter(instances.values()))["environment"]
    site, upstreams, block = caddy_proxy()
    assert upstreams == [f"{key}:{environment['WEBHOOK_PORT']}" for key in sorted(instances)]
    assert sorted(caddy["depends_on"]) == sorted(instances)
    assert block["lb_policy"] == ["round_robin"]
    assert block["health_uri"] == ["/healthz"]
    assert block["health_port"] == [environment["METRICS_PORT"]]
    # One hostname gives Caddy its certificate and every instance its WEBHOOK_URL.
    variable = re.fullmatch(r"\{\$(\w+)\}", site)
    assert variable is not None
    assert caddy["environment"] == {variable[1]: f"${{{variable[1]}:-}}"}
    assert urlsplit(environment["WEBHOOK_URL"]).netloc == f"${{{variable[1]}:-}}"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert "443:443" in caddy["ports"]


def test_worker_example_polls_once_and_runs_jobs_elsewhere() -> None:
    text = (ROOT / "compose.yaml").read_text()
    start = text.index("  # iris-receiver:")
    block = text[start : text.index("\n\n", start)]
    uncommented = re.sub(r"^  # ", "  ", block, flags=re.MULTILINE)
    services = load_compose(text.replace(block, uncommented))["services"]
    receiver, worker = services["iris-receiver"], services["iris-worker"]
    instance = services["iris-1"]
    assert worker["command"] == ["python", "-m", "bot", "worker"]
    assert "command" not in receiver
    for service in (receiver, worker):
        assert service["environment"]["WEBHOOK_URL"] == ""  # empty: not set, so polling
        assert service["environment"]["DATABASE_URL"] == instance["environment"]["DATABASE_URL"]
        assert service["depends_on"] == instance["depends_on"]


def environments(services: dict[str, Any]) -> dict[str, str]:
    """Every service's environment, merged (the files set each name to one value)."""
    merged: dict[str, str] = {}
    for service in services.values():
        merged.update(service.get("environment", {}))
    return merged


def test_no_secret_literal_in_deploy_files() -> None:
    services = load_compose()["services"]
    environment = environments(services)
    # Secrets come from .env: BOT_TOKEN and KEYS_SECRET through env_file, the rest interpolated.
    assert "BOT_TOKEN" not in environment
    assert "KEYS_SECRET" not in environment
    for name, value in environment.items():
        if re.search(r"PASSWORD|SECRET|TOKEN|KEY", name):
            assert re.fullmatch(r"\$\{\w+:-\}", value), name
    password = urlsplit(environment["DATABASE_URL"]).password
    assert password is not None
    assert re.fullmatch(r"\$\{\w+:-\}", password)
    for name in ("Caddyfile", "iris.service", "iris-worker@.service"):
        assert not re.search(
            r"(?i)(password|secret|token)\s*[=:]\s*\S", (ROOT / "deploy" / name).read_text()
        )
