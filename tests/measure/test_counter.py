"""The dispatch counter on small real models: exact counts derived by hand, CPU and fake tensors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode

from flopaudit.measure import ModelSource, profile
from flopaudit.measure.counter import BACKWARD, FORWARD, FlopAuditMode
from flopaudit.measure.formulas import FORMULAS, Formula
from tests.measure.factories import TinyDecoder


def count(fn: Callable[[], object], root: torch.nn.Module | None = None, *,
          attention: str = "full") -> FlopAuditMode:
    """Run ``fn`` under a fresh counter and return it."""
    mode = FlopAuditMode(root, attention=attention)
    with mode:
        fn()
    return mode


def test_mlp_forward_backward_and_modules() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    x = torch.randn(3, 8)
    mode = count(lambda: model(x).sum().backward(), model)
    tally = mode.tally
    # forward: 2*3*8*16 + 2*3*16*4 = 768 + 384 = 1,152
    assert tally.total(FORWARD) == 1_152
    # backward: layer 1 weight grad only (its input needs no grad) 768; layer 2 dgrad + wgrad 2*384
    assert tally.total(BACKWARD) == 768 + 768
    modules = {mode.module_name(k): v for k, v in tally.by_module[BACKWARD].items()}
    assert modules == {"": 1_536, "0": 768, "2": 768}
    assert dict(tally.uncounted) == {}


def test_matmul_einsum_and_bmm_are_counted_through_decomposition() -> None:
    a, b = torch.randn(2, 5, 6), torch.randn(2, 6, 7)
    mode = count(lambda: (a @ b, torch.einsum("bij,bjk->bik", a, b), torch.baddbmm(torch.zeros(2, 5, 7), a, b)))
    # three [2,5,6]x[2,6,7] products: 3 * 2*2*5*6*7 = 2,520
    assert mode.tally.total(FORWARD) == 2_520


def _sdpa_inputs(requires_grad: bool = True) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(0)
    q = torch.randn(2, 4, 16, 8, requires_grad=requires_grad)
    k = torch.randn(2, 4, 16, 8, requires_grad=requires_grad)
    v = torch.randn(2, 4, 16, 8, requires_grad=requires_grad)
    return q, k, v


@pytest.mark.parametrize("fake", [False, True])
def test_cpu_sdpa_counted_forward_and_backward(fake: bool) -> None:
    with FakeTensorMode() if fake else contextlib.nullcontext():
        q, k, v = _sdpa_inputs()
        mode = count(lambda: (F.scaled_dot_product_attention(q, k, v) * 1.0).sum().backward())
    # forward QK^T + PV: 2 * (2 * b*h*s*s*d) = 2 * (2*2*4*16*16*8) = 65,536; backward 2.5x = 163,840
    assert dict(mode.tally.by_operator[FORWARD]) == {"aten._scaled_dot_product_flash_attention_for_cpu": 65_536}
    assert dict(mode.tally.by_operator[BACKWARD]) == {
        "aten._scaled_dot_product_flash_attention_for_cpu_backward": 163_840}
    assert mode.tally.formula_source["aten._scaled_dot_product_flash_attention_for_cpu"] == "flopaudit"


def test_causal_halves_only_causal_attention_kernel_calls() -> None:
    q, k, v = _sdpa_inputs(requires_grad=False)
    causal = count(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), attention="causal")
    full_flag = count(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
    not_causal = count(lambda: F.scaled_dot_product_attention(q, k, v), attention="causal")
    # 65,536 full; halved: 32,768
    assert causal.tally.total(FORWARD) == 32_768
    assert full_flag.tally.total(FORWARD) == 65_536
    assert not_causal.tally.total(FORWARD) == 65_536
    assert dict(causal.tally.attention_calls) == {
        "aten._scaled_dot_product_flash_attention_for_cpu": {"calls": 1, "causal_halved": 1}}


class MaskedCausalAttention(torch.nn.Module):
    """Causal attention through an explicit mask, flagged like transformers' decoder layers."""

    is_causal = True

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def test_causal_module_flag_halves_masked_calls_forward_and_backward() -> None:
    module = MaskedCausalAttention()
    q, k, v = _sdpa_inputs()
    mode = count(lambda: (module(q, k, v) * 1.0).sum().backward(), module, attention="causal")
    # forward 65,536 / 2; backward 163,840 / 2
    assert mode.tally.total(FORWARD) == 32_768
    assert mode.tally.total(BACKWARD) == 81_920


def test_grouped_mm_counted_on_cpu_forward_and_backward() -> None:
    torch.manual_seed(0)
    tokens = torch.randn(48, 16, requires_grad=True)           # 48 routed rows, K = 16
    experts = torch.randn(3, 16, 32, requires_grad=True)       # 3 experts, N = 32
    offs = torch.tensor([16, 40, 48], dtype=torch.int32)
    mode = count(lambda: (torch._grouped_mm(tokens, experts, offs=offs) * 1.0).sum().backward())
    # forward 2 * 48 * 16 * 32 = 49,152; backward: input grad and expert grad, the same size each
    assert mode.tally.total(FORWARD) == 49_152
    assert mode.tally.total(BACKWARD) == 2 * 49_152
    assert mode.tally.counted_calls["aten._grouped_mm"] == 3


def _encoder(batch_first: bool = True) -> torch.nn.TransformerEncoder:
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=batch_first)
    return torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


def test_transformer_fast_paths_count_like_the_slow_path() -> None:
    encoder = _encoder()
    x = torch.randn(2, 10, 16)
    slow = count(lambda: encoder(x), encoder)  # grad enabled: the slow path (linear + SDPA)
    encoder.eval()
    with torch.no_grad():
        fast = count(lambda: encoder(x), encoder)
    # 2 layers x (2 * 20 tokens * (48*16 + 16*16 + 32*16 + 16*32) + 2 * 2*2*10*10*16) = 2 x 94,720
    assert slow.tally.total(FORWARD) == fast.tally.total(FORWARD) == 189_440
    assert "aten._transformer_encoder_layer_fwd" in fast.tally.by_operator[FORWARD]

    mha = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        fast_mha = count(lambda: mha(x, x, x, need_weights=False))
    # in-proj 2*20*16*48 = 30,720; attention 2 * 2*2*10*10*16 = 12,800; out-proj 2*20*16*16 = 10,240
    assert dict(fast_mha.tally.by_operator[FORWARD]) == {"aten._native_multi_head_attention": 53_760}


@torch.library.custom_op("flopaudit_test::opaque_matmul", mutates_args=())
def opaque_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A custom op no counter knows: its matmul happens out of sight."""
    return a @ b


@opaque_matmul.register_fake
def _(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a.new_empty(a.shape[0], b.shape[1])


class OpaqueModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(10, 8)
        self.weight = torch.nn.Parameter(torch.randn(8, 8))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).flatten(0, 1)
        return opaque_matmul(x, self.weight) + torch.cumsum(x, 0)


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_unknown_ops_are_reported_never_silently_zero(device: str) -> None:
    result = profile(ModelSource(module=OpaqueModel()), seq_len=4, device=device, backward=False)
    assert result.forward_flop == 0
    (entry,) = result.uncounted_ops
    assert (entry["op"], entry["calls"]) == ("flopaudit_test.opaque_matmul", 1)
    assert 0 < entry["share_of_calls"] < 1
    # cumsum is a known-zero reduction (by convention), the embedding lookup known-zero indexing
    assert result.zero_flop_calls["reduction"] >= 1 and result.zero_flop_calls["indexing"] >= 1


def test_a_formula_that_fails_reports_its_op(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        """Always fails."""
        raise ValueError("cannot read these shapes")

    monkeypatch.setitem(FORMULAS, "aten.mv", Formula("aten.mv", broken, "Always fails."))
    mode = count(lambda: torch.mv(torch.randn(3, 4), torch.randn(4)))
    assert dict(mode.tally.uncounted) == {"aten.mv": 1}
    assert "cannot read these shapes" in mode.tally.formula_errors["aten.mv"]


@pytest.mark.parametrize("attention", ["full", "causal"])
def test_meta_fake_and_cpu_agree_forward_and_backward(attention: str) -> None:
    torch.manual_seed(0)
    real = TinyDecoder()
    with torch.device("meta"):
        on_meta = TinyDecoder()
    results = [
        profile(ModelSource(module=real), seq_len=12, batch=2, device="cpu", attention=attention),
        profile(ModelSource(module=real), seq_len=12, batch=2, device="meta", attention=attention),
        profile(ModelSource(module=on_meta), seq_len=12, batch=2, device="meta", attention=attention),
        profile(ModelSource(module=on_meta), seq_len=12, batch=2, device="cpu", attention=attention),
        profile(ModelSource(factory="tests.measure.factories:tiny_decoder"), seq_len=12,
                batch=2, device="meta", attention=attention),
    ]
    # 24 tokens: qkv 2*24*16*48 = 36,864; out 12,288; up 24,576; down 24,576; head 2*24*16*50 = 38,400
    # attention 2 * (2 * b*h*t*t*dh) = 2 * (2*2*2*12*12*8) = 18,432 (halved under causal: 9,216)
    attn = 18_432 if attention == "full" else 9_216
    expected_forward = 36_864 + 12_288 + 24_576 + 24_576 + 38_400 + attn
    # backward: every linear 2x except qkv, whose input (the embedding output) needs a grad too,
    # so all 2x; attention 2.5x
    expected_backward = 2 * (expected_forward - attn) + 5 * attn // 2
    for result in results:
        assert (result.forward_flop, result.backward_flop) == (expected_forward, expected_backward)
        assert result.by_phase == results[0].by_phase
        assert result.uncounted_ops == []
    assert results[0].by_module["head"] == 3 * 38_400


def test_transformers_grouped_mm_fallback_op_is_counted() -> None:
    import transformers.integrations.moe  # noqa: F401 - registers torch.ops.transformers.*

    torch.manual_seed(0)
    tokens = torch.randn(12, 8, requires_grad=True)
    experts = torch.randn(3, 8, 4, requires_grad=True)
    offs = torch.tensor([4, 8, 12])
    mode = count(lambda: (torch.ops.transformers.grouped_mm_fallback(tokens, experts, offs) * 1.0)
                 .sum().backward())
    # forward 2 * 12 * 8 * 4 = 768; backward input and expert gradients, 768 each
    assert dict(mode.tally.by_operator[FORWARD]) == {"transformers.grouped_mm_fallback": 768}
    assert dict(mode.tally.by_operator[BACKWARD]) == {"transformers.grouped_mm_fallback_backward": 1_536}
    assert dict(mode.tally.uncounted) == {}


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_grouped_convolution_backward_counts_each_gradient_once(groups: int) -> None:
    # Forward of conv2d x[2,8,10,10] * w[16, 8/g, 3, 3] (no padding -> 8x8 out):
    # 2 x 2 x 16 x (8/g) x 9 x 64 FLOP. grad_input and grad_weight each cost the same, so
    # backward / forward = 2 whatever the groups (PyTorch 2.13's own formula gives 1 + g).
    x = torch.randn(2, 8, 10, 10, requires_grad=True)
    w = torch.randn(16, 8 // groups, 3, 3, requires_grad=True)
    mode = count(lambda: torch.nn.functional.conv2d(x, w, groups=groups).sum().backward())
    forward = 2 * 2 * 16 * (8 // groups) * 9 * 64
    assert mode.tally.total(FORWARD) == forward
    assert mode.tally.total(BACKWARD) == 2 * forward


def test_lstm_on_cpu_is_counted_not_zero() -> None:
    # 1 layer, T=8, B=2, I=16, H=32: per step B x (4H x I + 4H x H) = 2 x (2048 + 4096) = 12,288 MACs;
    # x 8 steps = 98,304 MACs = 196,608 FLOP forward; backward 2 x forward = 393,216.
    lstm = torch.nn.LSTM(16, 32)
    x = torch.randn(8, 2, 16, requires_grad=True)
    mode = count(lambda: lstm(x)[0].sum().backward())
    assert dict(mode.tally.uncounted) == {}
    assert mode.tally.total(FORWARD) == 196_608
    assert mode.tally.total(BACKWARD) == 393_216
