"""Dockerfile, compose.yaml and the systemd unit keep the invariants operators rely on."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

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


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string((ROOT / "deploy" / "iris.service").read_text())
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
