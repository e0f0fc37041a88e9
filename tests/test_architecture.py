"""Layering rules: services know nothing of aiogram."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SERVICES = Path(__file__).resolve().parent.parent / "services"


def test_services_source_never_imports_aiogram() -> None:
    offenders = []
    for path in SERVICES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "aiogram"]
    assert offenders == []


def test_importing_every_service_loads_no_aiogram() -> None:
    modules = sorted(f"services.{p.stem}" for p in SERVICES.glob("*.py") if p.stem != "__init__")
    code = f"import sys; import {', '.join(modules)}; print('aiogram' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=SERVICES.parent,
    )  # fmt: skip
    assert result.stdout.strip() == "False"
