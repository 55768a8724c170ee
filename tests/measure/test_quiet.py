"""Issue 7, item 10: a model whose forward fails prints flopaudit's one line, not torch's traceback.

Under fake tensors torch logs ``failed while attempting to run meta for aten.mm.default`` with a
full ``Traceback`` before it raises; third-party logging and warnings are silenced while counting.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from flopaudit.errors import MeasureError
from flopaudit.measure import ModelSource, profile
from flopaudit.measure.quiet import silenced
from tests.conftest import run_cli

SHAPE = "tests.measure.factories:shape_error"
# ShapeError feeds its 8-wide embedding to a Linear(7, 3): 4 tokens x 8 against 7 x 3.
FORWARD_FAILS = ("ShapeError failed in its forward pass: RuntimeError: a and b must have same reduction dim, "
                 "but got [4, 8] X [7, 3].")


def test_item10_forward_failure_prints_only_flopaudit_message_in_profile() -> None:
    done = run_cli("profile", "--factory", SHAPE, "--seq-len", "4")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "fake_tensor" not in done.stderr
    assert done.stderr.startswith(f"flopaudit: error: {FORWARD_FAILS}") and done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_item10_forward_failure_prints_only_flopaudit_message_in_check(tmp_path: Path) -> None:
    config = tmp_path / "shape.yaml"
    config.write_text(f"""model:
  name: shape error
  factory: {SHAPE}
training:
  - {{name: pretraining, kind: pretraining, tokens: 1B, sequence_length: 4}}
as_of: 2026-11-27
""")
    done = run_cli("check", str(config), "--allow-code")
    assert done.returncode == 2
    assert done.stderr.startswith(f"flopaudit: error: {config}:3:3: model.factory: {FORWARD_FAILS}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_item10_in_process_counting_writes_nothing_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    # The Python API counts in this process (no child): torch's logger must stay quiet here too.
    with pytest.raises(MeasureError, match="failed in its forward pass"):
        profile(ModelSource(factory=SHAPE), seq_len=4)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_item10_hf_forward_failure_in_process_prints_one_line(tmp_path: Path) -> None:
    # Reformer's forward asserts on its own reversible-layer state: built and run in flopaudit's own
    # process, the failure is one line.
    cfg = tmp_path / "config.json"
    cfg.write_text('{"model_type": "reformer", "hidden_size": 32, "num_attention_heads": 2, '
                   '"attention_head_size": 16, "axial_pos_embds": false, "vocab_size": 100, '
                   '"attn_layers": ["local", "lsh"], "local_attn_chunk_length": 8, "lsh_attn_chunk_length": 8, '
                   '"is_decoder": true}')
    done = run_cli("profile", "--hf-config", str(cfg), "--seq-len", "12")
    assert done.returncode == 2
    assert done.stderr.startswith("flopaudit: error: Reformer") and done.stderr.count("\n") == 1


def test_item10_silenced_restores_logging_and_warnings() -> None:
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    with silenced():
        assert not logger.isEnabledFor(logging.CRITICAL)
        with warnings.catch_warnings(record=True) as seen:
            warnings.warn("dropped", UserWarning, stacklevel=1)
        assert seen == []
    assert logger.isEnabledFor(logging.ERROR)
    with pytest.warns(UserWarning, match="kept"):
        warnings.warn("kept", UserWarning, stacklevel=1)
