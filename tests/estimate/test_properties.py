"""Hypothesis properties of the formulas: monotone where they should be, bands ordered."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flopaudit.config.loader import load_config_text
from flopaudit.estimate import formulas as f
from flopaudit.estimate.methods import Context
from flopaudit.estimate.stage import estimate_stage

pos = st.floats(min_value=1e6, max_value=1e13, allow_nan=False, allow_infinity=False)


@given(n=pos, d=pos, k=st.floats(min_value=1.01, max_value=10))
def test_six_nd_scales_linearly(n: float, d: float, k: float) -> None:
    assert f.six_nd(n * k, d) > f.six_nd(n, d)
    assert abs(f.six_nd(n, d * k) / f.six_nd(n, d) - k) < 1e-9 * k


arch = st.fixed_dictionaries({
    "layers": st.integers(1, 64), "heads": st.sampled_from([1, 2, 4, 8]), "hd": st.sampled_from([16, 64, 128]),
    "ff": st.integers(1, 4096), "vocab": st.integers(1, 50000), "seq": st.integers(1, 8192),
    "gated": st.booleans(),
})


@given(a=arch)
@settings(max_examples=60)
def test_transformer_forward_monotone_and_causal_cheaper(a: dict) -> None:
    kw = dict(family="decoder", layers=a["layers"], d_model=a["heads"] * a["hd"], heads=a["heads"],
              kv_heads=a["heads"], head_dim=a["hd"], d_ff=a["ff"], gated=a["gated"], vocab=a["vocab"],
              seq_len=a["seq"])
    full = f.transformer_forward(**kw, causal=False)
    assert f.transformer_forward(**kw, causal=True) < full
    assert f.transformer_forward(**{**kw, "layers": a["layers"] + 1}, causal=False) > full
    assert f.transformer_forward(**{**kw, "seq_len": a["seq"] + 1}, causal=False) > full
    # per token, longer sequences cost more (attention grows with s)
    longer = f.transformer_forward(**{**kw, "seq_len": 2 * a["seq"]}, causal=False)
    assert longer / (2 * a["seq"]) > full / a["seq"]


@given(lo=st.floats(0.1, 0.5), width=st.floats(0, 0.5), hours=st.floats(1, 1e5), count=st.integers(1, 100000))
@settings(max_examples=40)
def test_hardware_band_ordered(lo: float, width: float, hours: float, count: int) -> None:
    hi = min(lo + width, 1.0)
    text = f"""
model: {{name: m}}
training:
  - name: p
    kind: pretraining
    hardware: {{accelerator: H100-SXM, count: {count}, hours: {hours!r}, utilization: "{lo!r}..{hi!r}"}}
"""
    cfg = load_config_text(text).config
    r = estimate_stage(cfg.training[0], Context(cfg.model))
    assert r.flop.low <= r.flop.central <= r.flop.high
    # count x hours x 3600 x 989.4e12 x utilisation
    assert abs(r.flop.low / (count * hours * 3600 * 9.894e14 * lo) - 1) < 1e-9
