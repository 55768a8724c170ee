"""Issue 7, item 12: installed without the extras (``pip install flopaudit``), flopaudit fails closed.

A missing extra is an input error naming the exact extras to install; a method that does not need
torch (``--method transformer`` from ``model.architecture``) still judges. The environment is
real: an import hook makes torch, transformers, fvcore and huggingface_hub impossible to import,
as they are when not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

WITHOUT_EXTRAS = """
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"torch", "transformers", "fvcore", "huggingface_hub"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from flopaudit.cli.app import main
try:
    main(sys.argv[1:])
finally:
    leaked = [m for m in ("torch", "transformers") if m in sys.modules]
    assert not leaked, leaked
"""

CONFIG = "examples/gpt2-xl-measured.yaml"  # hf_config on line 19, and an architecture
NO_TORCH = "Counting the FLOP of a real model needs the optional package 'torch', which is not installed"


def without_extras(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_item12_profile_without_torch_names_the_exact_extra() -> None:
    done = without_extras("profile", "--hf-config", "examples/hf/gpt2-xl.json")
    assert done.returncode == 2
    assert done.stderr == f"flopaudit: error: {NO_TORCH} (pip install 'flopaudit[measure,hf]')\n"
    done = without_extras("profile", "--factory", "tests.measure.factories:tiny_decoder")
    assert done.returncode == 2
    assert done.stderr == f"flopaudit: error: {NO_TORCH} (pip install 'flopaudit[measure]')\n"


def test_item12_hf_config_under_the_default_method_exits_2_naming_extras_and_method() -> None:
    for extra in ([], ["--method", "measured"]):
        done = without_extras("check", CONFIG, *extra)
        assert done.returncode == 2, done.stderr
        assert done.stderr == (f"flopaudit: error: {CONFIG}:19:3: {NO_TORCH} (pip install 'flopaudit[measure,hf]'; "
                               "--method transformer judges from model.architecture without it)\n")


def test_item12_method_transformer_judges_without_torch() -> None:
    done = without_extras("check", CONFIG, "--method", "transformer", "--format", "json")
    # GPT-2 XL's formula figure, 1.03e21 FLOP, is below every built-in threshold: a real verdict, exit 0.
    assert done.returncode == 0, done.stderr
    stage = json.loads(done.stdout)["stages"][0]
    assert stage["method"] == "transformer"
    assert stage["flop"]["central"] == 1.02735456e21
    assert ("measured not used for this stage: needs the optional package 'torch' "
            "(pip install 'flopaudit[measure,hf]')") in stage["warnings"]


def test_item12_factory_config_under_another_method_needs_neither_torch_nor_consent(tmp_path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text("""model:
  name: factory
  factory: tests.measure.factories:tiny_decoder
  parameters: 1B
training:
  - {name: pretraining, kind: pretraining, tokens: 1T, sequence_length: 8}
as_of: 2026-11-27
""")
    done = without_extras("check", str(config), "--method", "6nd", "--format", "json")
    assert done.returncode == 0, done.stderr
    stage = json.loads(done.stdout)["stages"][0]
    assert (stage["method"], stage["flop"]["central"]) == ("6nd", 6e21)  # 6 x 1e9 x 1e12
    done = without_extras("check", str(config), "--allow-code")
    assert done.returncode == 2
    assert "needs the optional package 'torch'" in done.stderr and "pip install 'flopaudit[measure]'" in done.stderr
