"""Logging: text and JSON lines, the job id on job lines, secrets scrubbed, no tracebacks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import job_context, origin, setup_logging

SECRET = "sk-secret-value-0123456789"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_job_id_and_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("DEBUG", log_format="json", secrets=[SECRET])
    log = logging.getLogger("services.demo")
    with job_context(42):
        log.info("calling with %s", SECRET)
    log.warning("outside any job")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["job_id"] == 42
    assert lines[0]["message"] == "calling with [redacted]"
    assert lines[0]["logger"] == "services.demo"
    assert lines[0]["level"] == "INFO"
    assert "job_id" not in lines[1]


def test_text_lines_prefix_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", secrets=[SECRET])
    with job_context(7):
        logging.getLogger("bot.jobs.runner").info("delivered")
    assert "bot.jobs.runner: [job 7] delivered" in capsys.readouterr().err


def test_origin_names_the_place_not_the_message() -> None:
    try:
        raise ValueError(SECRET)
    except ValueError as e:
        where = origin(e)
    assert where.startswith("ValueError at tests/test_logs.py:")
    assert SECRET not in where


@pytest.mark.parametrize(("level", "per_update_lines"), [("INFO", False), ("DEBUG", True)])
def test_aiogram_logs_each_update_only_at_debug(
    capsys: pytest.CaptureFixture[str], level: str, per_update_lines: bool
) -> None:
    setup_logging(level)
    logging.getLogger("aiogram.event").info("Update id=1 is handled. Duration 3 ms by bot id=42")
    logging.getLogger("aiogram.event").warning("a warning of aiogram's")
    err = capsys.readouterr().err
    assert ("Update id=1 is handled" in err) is per_update_lines
    assert "a warning of aiogram's" in err
