"""Model sources and their errors: every user mistake is a flopaudit error, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from flopaudit.errors import MeasureError, MissingDependencyError, ModelSourceError
from flopaudit.measure import ModelSource, profile, train_flop_per_token
from tests.measure.conftest import ROOT, ConfigFile
from tests.measure.factories import TinyDecoder
from tests.measure.test_hf_models import LLAMA, TINY

FACTORY = "tests.measure.factories:tiny_decoder"


def test_exactly_one_source() -> None:
    with pytest.raises(ModelSourceError, match="exactly one"):
        profile(ModelSource(), seq_len=8)
    with pytest.raises(ModelSourceError, match="hf_config, factory"):
        profile(ModelSource(factory=FACTORY, module=TinyDecoder()), seq_len=8)


def test_bad_options_are_measure_errors() -> None:
    with pytest.raises(MeasureError, match="device"):
        profile(ModelSource(factory=FACTORY), seq_len=8, device="tpu")
    with pytest.raises(MeasureError, match="attention"):
        profile(ModelSource(factory=FACTORY), seq_len=8, attention="sliding")
    with pytest.raises(MeasureError, match="seq_len"):
        profile(ModelSource(factory=FACTORY), seq_len=0)


def test_hf_config_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "config.json"
    broken.write_text('{"model_type": "llama",\n "hidden_size": }')
    with pytest.raises(ModelSourceError) as info:
        profile(ModelSource(hf_config=broken), seq_len=8)
    assert info.value.file == str(broken) and info.value.line == 2
    with pytest.raises(ModelSourceError, match="cannot read"):
        profile(ModelSource(hf_config=tmp_path / "missing.json"), seq_len=8)
    broken.write_text(json.dumps({"model_type": "no-such-architecture"}))
    with pytest.raises(ModelSourceError, match="does not know model_type"):
        profile(ModelSource(hf_config=broken), seq_len=8)
    broken.write_text(json.dumps({"hidden_size": 8}))
    with pytest.raises(ModelSourceError, match="no model_type"):
        profile(ModelSource(hf_config=broken), seq_len=8)


def test_seq_len_beyond_the_position_table_is_refused(config_file: ConfigFile) -> None:
    with pytest.raises(ModelSourceError, match="exceeds the model's 64 positions"):
        profile(ModelSource(hf_config=config_file(LLAMA)), seq_len=65)


CUSTOM_CONFIG = '''
from transformers import PretrainedConfig

class TinyCustomConfig(PretrainedConfig):
    model_type = "flopaudit-tiny-custom"

    def __init__(self, hidden_size=8, vocab_size=16, **kwargs):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        super().__init__(**kwargs)
'''
CUSTOM_MODEL = '''
import torch
from transformers import PreTrainedModel
from .configuration_tiny import TinyCustomConfig

class TinyCustomModel(PreTrainedModel):
    config_class = TinyCustomConfig

    def __init__(self, config):
        super().__init__(config)
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.head = torch.nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, **kwargs):
        return self.head(self.embed(input_ids))
'''


def test_remote_code_runs_only_when_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import dynamic_module_utils

    # transformers copies trusted code into its modules cache: keep it out of the user's home
    monkeypatch.setattr(dynamic_module_utils, "HF_MODULES_CACHE", str(tmp_path / "modules"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "configuration_tiny.py").write_text(CUSTOM_CONFIG)
    (tmp_path / "modeling_tiny.py").write_text(CUSTOM_MODEL)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "model_type": "flopaudit-tiny-custom", "hidden_size": 8, "vocab_size": 16,
        "auto_map": {"AutoConfig": "configuration_tiny.TinyCustomConfig",
                     "AutoModelForCausalLM": "modeling_tiny.TinyCustomModel"}}))
    with pytest.raises(ModelSourceError, match="auto_map") as info:
        profile(ModelSource(hf_config=config), seq_len=4)
    assert "--trust-remote-code" in str(info.value)
    result = profile(ModelSource(hf_config=config, trust_remote_code=True), seq_len=4, backward=False)
    # the head only: 2 * 4 tokens * 8 * 16 = 1,024
    assert result.forward_flop == 1_024


def test_factory_errors() -> None:
    for spec, message in [("no_colon", "must look like"),
                          ("flopaudit_no_such_module:build", "cannot import"),
                          ("tests.measure.factories:missing", "has no attribute"),
                          ("tests.measure.factories:NOT_CALLABLE", "not callable"),
                          ("tests.measure.factories:not_a_module", "not a torch.nn.Module"),
                          ("tests.measure.factories:broken", "raised RuntimeError")]:
        with pytest.raises(ModelSourceError, match=message):
            profile(ModelSource(factory=spec), seq_len=8)


def test_factory_input_sets_the_token_shape() -> None:
    result = profile(ModelSource(factory=FACTORY, factory_input=[3, 5]), seq_len=999, backward=False)
    assert (result.batch, result.seq_len, result.tokens) == (3, 5, 15)
    assert any("factory_input" in note for note in result.notes)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal when no GPU is present")
def test_cuda_without_a_gpu_is_a_measure_error() -> None:
    with pytest.raises(MeasureError, match="CUDA"):
        profile(ModelSource(factory=FACTORY), seq_len=8, device="cuda")


def test_train_flop_per_token_is_fwd_plus_bwd_at_batch_1(config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    result = train_flop_per_token(ModelSource(hf_config=path), seq_len=16)
    assert result is train_flop_per_token(ModelSource(hf_config=path), seq_len=16)  # cached
    # batch 1 x 16 tokens: half of the tiny llama's 32-token matmuls (2,949,120); attention at
    # 16 tokens for one sequence: 131,072. Train = 3 x matmuls + 3.5 x attention, per token.
    matmul, attention = TINY["llama"][1] // 2, 131_072
    assert result.batch == 1 and result.device == "meta"
    assert result.flop_per_token_train == (3 * matmul + 7 * attention // 2) / 16


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_importing_measure_does_not_import_torch() -> None:
    done = _python("""
        import sys
        import flopaudit.measure
        from flopaudit.measure import ModelSource, ProfileResult, profile, train_flop_per_token
        assert "torch" not in sys.modules, "flopaudit.measure imported torch"
        print("ok")
    """)
    assert done.stdout.strip() == "ok", done.stderr


def test_missing_torch_and_transformers_raise_missing_dependency(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LLAMA))
    done = _python(f"""
        import sys
        sys.modules["torch"] = None  # what an environment without torch looks like to an import
        from flopaudit.errors import MissingDependencyError
        from flopaudit.measure import ModelSource, train_flop_per_token
        try:
            train_flop_per_token(ModelSource(factory="{FACTORY}"), seq_len=8)
        except MissingDependencyError as exc:
            print(exc.package, exc.extra, exc.hint)
    """)
    assert done.stdout.strip() == "torch measure pip install 'flopaudit[measure]'", done.stderr
    done = _python(f"""
        import sys
        sys.modules["transformers"] = None
        from flopaudit.errors import MissingDependencyError
        from flopaudit.measure import ModelSource, train_flop_per_token
        try:
            train_flop_per_token(ModelSource(hf_config={str(config)!r}), seq_len=8)
        except MissingDependencyError as exc:
            print(exc.package, exc.extra)
        # a factory needs torch only
        result = train_flop_per_token(ModelSource(factory="{FACTORY}"), seq_len=8)
        print(result.flop_per_token_train > 0)
    """)
    # an HF config needs torch and transformers: both extras, installed together
    assert done.stdout.split() == ["transformers", "measure,hf", "True"], done.stderr
    assert MissingDependencyError  # the class the subprocesses raised
