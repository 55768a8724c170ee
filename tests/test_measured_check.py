"""A config with ``model.hf_config`` gets a ``measured`` estimate in ``check``, cross-checked by the formula."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

pytest.importorskip("torch")
pytest.importorskip("transformers")


def test_hf_config_gives_measured_estimate_cross_checked_by_transformer() -> None:
    proc = run_cli("check", "examples/gpt2-xl-measured.yaml", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    stage = json.loads(proc.stdout)["stages"][0]
    assert stage["method"] == "measured"
    transformer = next(e for e in stage["estimates"] if e["method"] == "transformer")
    # Forward per token is identical; the measured backward of fused attention is 2.5x its forward
    # instead of 2x: 48 layers x 0.5 x (4 x 1024 x 1600) = 157,286,400 FLOP per token more,
    # x 100e9 tokens = 1.572864e19 over the formula's 1.02735456e21.
    assert stage["flop"]["central"] - transformer["flop"]["central"] == pytest.approx(1.572864e19, rel=1e-6)
    assert stage["warnings"] == []
    assert any("counted forward+backward at sequence length 1024" in a for a in stage["assumptions"])


def test_llama4_scout_priced_at_top1_is_below_the_eu_threshold() -> None:
    # Scout (examples/hf/llama-4-scout-17b-16e.json), per token at T=8192: per layer q,k,v,o
    # 125,829,120 + attention 4*8192*5120 167,772,160 + router 163,840 + routed top-1 expert
    # 3*2*5120*8192 251,658,240 + shared expert 251,658,240 = 797,081,600; x 48 + head
    # 2*5120*202048 2,068,971,520 = 40,328,888,320 forward. Backward: matmuls 2x (32,275,824,640),
    # attention 2.5x (48 x 167,772,160) -> 84,684,308,480; train 125,013,196,800 x 40e12 tokens
    # = 5.000527872e24 < 1e25. Counted as executed (all 16 experts) it would be about 2.67e25.
    proc = run_cli("check", "examples/llama-4-scout-measured.yaml", "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    stage = data["stages"][0]
    assert stage["method"] == "measured"
    assert stage["flop"]["central"] == pytest.approx(5.000527872e24, rel=1e-9)
    eu = next(c for c in data["checks"] if c["policy"] == "eu-ai-act-systemic-risk")
    assert eu["verdict"] == "below"
    # the pricing is stated with the figure
    assert any("top-1 of 16 routed experts" in a and "dense execution priced at top-k" in a
               for a in stage["assumptions"]), stage["assumptions"]


def test_ops_the_counter_cannot_price_are_warnings_in_every_output(tmp_path) -> None:
    cfg = tmp_path / "fft.yaml"
    cfg.write_text("""
model:
  name: FFT mixer
  factory: tests.measure.factories:fft_mixer
training:
  - {name: pretraining, kind: pretraining, tokens: 1B, sequence_length: 8}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
""")
    data = json.loads(run_cli("check", str(cfg), "--format", "json", "--allow-code").stdout)
    warnings = data["stages"][0]["warnings"]
    assert any("NOT counted: aten._fft_c2c (1 calls" in w for w in warnings), warnings
    assert any("NOT counted: aten._fft_r2c" in w for w in warnings), warnings
    for fmt, needle in (("text", "aten._fft_c2c"), ("markdown", "aten._fft_c2c"), ("github", "aten._fft_c2c"),
                        ("sarif", "aten._fft_c2c"), ("junit", "aten._fft_c2c")):
        assert needle in run_cli("check", str(cfg), "--format", fmt, "--allow-code").stdout, fmt


def test_an_encoder_decoder_stage_is_counted_at_its_decoder_length(tmp_path) -> None:
    # A small T5 (tests/measure/test_inputs.py) pre-trained on 1M tokens of 8-token inputs with
    # 4-token targets: the measured figure is 1M x the per-token count at those lengths, as
    # `profile --seq-len 8 --decoder-len 4` gives it, and the assumption names both lengths.
    from tests.measure.test_inputs import T5

    (tmp_path / "t5.json").write_text(json.dumps(T5))
    cfg = tmp_path / "t5.yaml"
    cfg.write_text("""
model: {name: tiny T5, hf_config: t5.json}
training:
  - {name: pretraining, kind: pretraining, tokens: 1M, sequence_length: 8, decoder_length: 4}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
""")
    proc = run_cli("check", str(cfg), "--format", "json", "--method", "measured")
    assert proc.returncode == 0, proc.stderr
    stage = json.loads(proc.stdout)["stages"][0]
    profiled = json.loads(run_cli("profile", "--hf-config", str(tmp_path / "t5.json"), "--seq-len", "8",
                                  "--decoder-len", "4", "--format", "json").stdout)
    assert stage["flop"]["central"] == pytest.approx(1e6 * profiled["flop_per_token_train"], rel=1e-12)
    assert any("sequence length 8, decoder length 4" in a for a in stage["assumptions"])
