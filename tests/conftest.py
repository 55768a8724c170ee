"""Shared fixtures: a clean environment so the developer's settings cannot change results (rich habit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "GITHUB_ACTIONS", "FLOPAUDIT_DEBUG"):
        monkeypatch.delenv(var, raising=False)


def run_cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``flopaudit`` entry point in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "FLOPAUDIT_DEBUG")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "flopaudit", *args], cwd=cwd, capture_output=True, text=True,
                          env=full_env, timeout=120)
