"""`.env.example` documents every setting, and as shipped it is a valid configuration."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def example_names() -> list[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def test_env_example_lists_every_setting_once() -> None:
    names = example_names()
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(name.upper() for name in Settings.model_fields)


def test_readme_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in example_names() if f"`{name}`" not in readme]
    assert missing == []
