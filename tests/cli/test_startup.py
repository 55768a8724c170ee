"""``check`` on a formula-only config never imports torch, transformers or fvcore (the extras)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import sys
from flopaudit.cli.app import main
try:
    main(["check", "--format", "json", "--output", sys.argv[2], sys.argv[1]])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "transformers", "fvcore", "jinja2") if m in sys.modules)
print(code, ",".join(heavy) or "-")
"""


def test_formula_only_check_imports_no_extra(tmp_path) -> None:
    for example in ("examples/llama-3.1-405b.yaml", "examples/deepseek-v3.yaml", "examples/eu-guidelines-model-h.yaml"):
        proc = subprocess.run([sys.executable, "-c", PROBE, example, str(tmp_path / "out.json")], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        code, heavy = proc.stdout.split()
        assert code in ("0", "1"), proc.stderr
        assert heavy == "-", f"{example} imported {heavy}"


BLOCKED = """
import sys
sys.modules["torch"] = None  # as if the 'measure' extra were not installed
from flopaudit.cli.app import main
main(["check", "examples/gpt2-xl-measured.yaml"])
"""


def test_measured_config_without_torch_exits_2_naming_the_extra() -> None:
    proc = subprocess.run([sys.executable, "-c", BLOCKED], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "needs the optional package 'torch'" in proc.stderr
    assert "pip install 'flopaudit[measure,hf]'" in proc.stderr  # an hf_config needs both extras
    assert "Traceback" not in proc.stderr
