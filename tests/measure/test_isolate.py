"""Issue 7, item 1: code a config names runs only with --allow-code, and then in a child process.

Every way that child can end (exit, abort, segfault, hang, SystemExit, KeyboardInterrupt, memory)
is exit 2 with one clear line, within the timeout; without --allow-code nothing is imported.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from flopaudit.audit import audit
from flopaudit.config.loader import load_config_text
from flopaudit.errors import CodeNotAllowedError, MeasureError
from flopaudit.measure import ModelSource, ProfileResult, profile
from flopaudit.measure.isolate import Limits
from tests.conftest import ROOT, run_cli

# A factory module that leaves a marker when it is imported: the proof that code ran.
MARKED = '''
from pathlib import Path
Path(__file__).with_name("imported.marker").write_text("imported")

from tests.measure.factories import tiny_decoder as build
'''

# The tiny decoder of tests/measure/factories.py trained on 1e17 tokens x 1e4 epochs = 1e21: its matmul weights are
# 16 x 48 + 16 x 16 + 16 x 32 x 2 + 16 x 50 = 2,848, so 6 x 2,848 = 17,088 FLOP per token, plus
# attention at 8 tokens (QK^T and PV: 2 x 2 x 8 x 16 = 512 forward, x 3.5 with the fused backward
# = 1,792): 18,880 FLOP per token x 1e21 tokens = 1.9e25 FLOP, over the EU AI Act's 1e25. Judged,
# this config crosses (exit 1); a factory that ends its process "successfully" must not make it 0.
CROSSING = """
model:
  name: crossing
  factory: {factory}
  architecture: {{layers: 1, d_model: 16, heads: 2, d_ff: 32, vocab: 50, context: 8}}
training:
  - {{name: pretraining, kind: pretraining, tokens: 1e17, epochs: 1e4, sequence_length: 8}}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
"""


def crossing_config(directory: Path, factory: str) -> Path:
    path = directory / "crossing.yaml"
    path.write_text(CROSSING.format(factory=factory))
    return path


def marked_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project directory whose factory module writes ``imported.marker`` at import."""
    (tmp_path / "marked_model.py").write_text(MARKED)
    return crossing_config(tmp_path, "marked_model:build"), tmp_path / "imported.marker"


#: Run from the project directory with this worktree's flopaudit (and tests.measure.factories) importable.
ENV = {"PYTHONPATH": str(ROOT)}


def test_item1_no_factory_module_is_imported_without_allow_code(tmp_path: Path) -> None:
    config, marker = marked_project(tmp_path)
    for command in (["check", str(config)], ["check", str(config), "--method", "measured"],
                    ["report", str(config), "-o", str(tmp_path / "r.html")]):
        done = run_cli(*command, cwd=tmp_path, env=ENV)
        assert done.returncode == 2, (command, done.stderr)
        assert "--allow-code" in done.stderr and "Traceback" not in done.stderr
        # the error points at the config line that names the factory (line 4 of CROSSING)
        assert f"{config}:4:" in done.stderr
        assert not marker.exists(), f"{command} imported the factory module"
    # the same config with consent imports it (so the marker would show a leak above)
    done = run_cli("check", str(config), "--allow-code", "--format", "json", cwd=tmp_path, env=ENV)
    assert done.returncode == 1, done.stderr
    assert marker.read_text() == "imported"


def test_item1_another_method_judges_without_running_the_code(tmp_path: Path) -> None:
    config, marker = marked_project(tmp_path)
    done = run_cli("check", str(config), "--method", "transformer", "--format", "json", cwd=tmp_path,
                   env=ENV)
    assert done.returncode == 1, done.stderr  # the architecture's own figure crosses too
    stage = json.loads(done.stdout)["stages"][0]
    assert stage["method"] == "transformer"
    assert stage["unavailable"]["measured"] == "model.factory runs code, which needs --allow-code"
    assert "measured not used for this stage: model.factory runs code, which needs --allow-code" in stage["warnings"]
    assert not marker.exists()


def test_item1_audit_without_allow_code_raises_before_importing(tmp_path: Path) -> None:
    config, marker = marked_project(tmp_path)
    loaded = load_config_text(config.read_text(), str(config))
    with pytest.raises(CodeNotAllowedError, match="pass --allow-code"):
        audit(loaded)
    assert not marker.exists()


ENDINGS = [
    ("sys:exit", "the factory 'sys:exit' raised SystemExit instead of returning a result"),
    ("os:abort", "the factory 'os:abort' was killed by signal SIGABRT"),
    ("faulthandler:_sigsegv", "the factory 'faulthandler:_sigsegv' was killed by signal SIGSEGV"),
    ("signal:pause", "the factory 'signal:pause' did not finish within 15 s"),
    ("tests.measure.factories:hangs", "the factory 'tests.measure.factories:hangs' did not finish within 15 s"),
    ("tests.measure.factories:raises_system_exit",
     "the factory 'tests.measure.factories:raises_system_exit' raised SystemExit (exit status 0)"),
    ("tests.measure.factories:raises_keyboard_interrupt",
     "the factory 'tests.measure.factories:raises_keyboard_interrupt' raised KeyboardInterrupt"),
    ("tests.measure.factories:exits_quietly",
     "the factory 'tests.measure.factories:exits_quietly' exited with status 0 before returning a result"),
]


@pytest.mark.parametrize(("factory", "message"), ENDINGS, ids=[f for f, _ in ENDINGS])
def test_item1_every_way_a_factory_ends_is_exit_2(tmp_path: Path, factory: str, message: str) -> None:
    config = crossing_config(tmp_path, factory)
    start = time.monotonic()
    done = run_cli("check", str(config), "--allow-code", "--code-timeout", "15")
    elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stderr.startswith(f"flopaudit: error: {config}:4:")  # located at model.factory
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert elapsed < 15 + 60  # the timeout, plus starting two interpreters on a busy machine


def test_item1_memory_limit_ends_in_exit_2_naming_the_limit(tmp_path: Path) -> None:
    config = crossing_config(tmp_path, "tests.measure.factories:hungry")
    done = run_cli("check", str(config), "--allow-code", "--code-memory", "4")
    assert done.returncode == 2, done.stderr
    assert "raised MemoryError" in done.stderr and "the limit is 4 GiB" in done.stderr
    assert "--code-memory" in done.stderr


def test_item1_profile_counts_a_command_line_factory_in_a_child() -> None:
    # A factory named on profile's command line is the runner's own choice: no --allow-code, but
    # it still runs in a child, so its abort is exit 2 rather than a core dump (134).
    done = run_cli("profile", "--factory", "os:abort", "--seq-len", "8")
    assert done.returncode == 2
    assert done.stderr == "flopaudit: error: the factory 'os:abort' was killed by signal SIGABRT\n"
    done = run_cli("profile", "--factory", "signal:pause", "--seq-len", "8", "--code-timeout", "10")
    assert done.returncode == 2
    assert "the factory 'signal:pause' did not finish within 10 s (raise the limit with --code-timeout" in done.stderr


def test_item1_what_the_child_prints_never_reaches_the_output() -> None:
    done = run_cli("profile", "--factory", "tests.measure.factories:chatty", "--seq-len", "12", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    data = json.loads(done.stdout)  # nothing the factory printed is mixed into the JSON
    assert data["model"] == "TinyDecoder"


def test_item1_child_counts_equal_in_process_counts() -> None:
    source = ModelSource(factory="tests.measure.factories:tiny_decoder")
    here = profile(source, seq_len=12, batch=2)
    child = profile(source, seq_len=12, batch=2, isolation=Limits(timeout_s=120))
    assert child.to_dict() | {"seconds": 0} == here.to_dict() | {"seconds": 0}


def test_item1_a_malformed_child_result_is_refused() -> None:
    good = {"model": "M", "device": "meta", "seq_len": 4, "batch": 1, "parameters": 10,
            "active_parameters": 10, "forward_flop": 8, "backward_flop": 16, "attention": "full",
            "by_operator": {"aten.mm": 24}, "by_module": {}, "uncounted_ops": [], "seconds": 0.1}
    assert ProfileResult.from_dict(good).flop_per_token_train == 6.0  # (8 + 16) / 4 tokens
    for broken in ({**good, "forward_flop": "8"}, {**good, "forward_flop": -1}, {**good, "seq_len": 0},
                   {**good, "by_operator": {"aten.mm": 2.5}}, {**good, "uncounted_ops": [{"calls": 1}]},
                   {**good, "evil": 1}):
        with pytest.raises(MeasureError, match="malformed count"):
            ProfileResult.from_dict(broken)


def test_item1_limits_are_validated() -> None:
    with pytest.raises(MeasureError, match="timeout"):
        Limits(timeout_s=0)
    with pytest.raises(MeasureError, match="memory"):
        Limits(memory_bytes=-1)
    assert Limits().memory_bytes is None or Limits().memory_bytes >= 4 * 2**30


def test_item1_report_reproduce_command_keeps_allow_code() -> None:
    from flopaudit.cli.report import reproduce_command

    command = reproduce_command(("c.yaml",), Path("r.html"), (), None, "measured", False, allow_code=True)
    assert command == ["flopaudit", "report", "c.yaml", "-o", "r.html", "--method", "measured", "--allow-code"]
    assert "--allow-code" not in reproduce_command(("c.yaml",), Path("r.html"), (), None, None, False)


def remote_code_dir(tmp_path: Path, model_code: str) -> Path:
    from tests.measure.test_sources import CUSTOM_CONFIG

    (tmp_path / "configuration_tiny.py").write_text(CUSTOM_CONFIG)
    (tmp_path / "modeling_tiny.py").write_text(model_code)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "model_type": "flopaudit-tiny-custom", "hidden_size": 8, "vocab_size": 16,
        "auto_map": {"AutoConfig": "configuration_tiny.TinyCustomConfig",
                     "AutoModelForCausalLM": "modeling_tiny.TinyCustomModel"}}))
    return config


def test_item1_profile_runs_trusted_remote_code_in_a_child(tmp_path: Path) -> None:
    from tests.measure.test_sources import CUSTOM_MODEL

    env = {"HF_MODULES_CACHE": str(tmp_path / "modules")}  # transformers copies trusted code there
    (tmp_path / "good").mkdir()
    config = remote_code_dir(tmp_path / "good", CUSTOM_MODEL)
    done = run_cli("profile", "--hf-config", str(config), "--trust-remote-code", "--seq-len", "4", "--no-backward",
                   "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["forward_flop"] == 1_024  # the head only: 2 x 4 tokens x 8 x 16
    (tmp_path / "bad").mkdir()
    config = remote_code_dir(tmp_path / "bad", "import os\nos.abort()\n" + CUSTOM_MODEL)
    done = run_cli("profile", "--hf-config", str(config), "--trust-remote-code", "--seq-len", "4", env=env)
    assert done.returncode == 2
    assert done.stderr == f"flopaudit: error: the remote code of HF config '{config}' was killed by signal SIGABRT\n"
