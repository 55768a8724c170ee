"""Layer reuse (flopaudit.measure.reuse): counting each distinct layer once equals the full count.

Every assertion compares a reused count with a full count of the same model (``reuse_layers=False``)
operator by operator, forward and backward: reuse is an optimisation and must never change a total.
"""

from __future__ import annotations

from typing import Any

import pytest

from flopaudit.measure import ModelSource, profile
from tests.measure.conftest import HF_CONFIGS, ConfigFile

LLAMA_4L = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
            "intermediate_size": 160, "num_hidden_layers": 4, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64,
            "tie_word_embeddings": False}
# sliding and global layers alternate: two signatures
GEMMA2_4L = {"model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "hidden_size": 64,
             "intermediate_size": 160, "num_hidden_layers": 4, "num_attention_heads": 4,
             "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 96,
             "max_position_embeddings": 64, "sliding_window": 8}
# one dense layer first, then three MoE layers
DEEPSEEK_V3_4L = {"model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
                  "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
                  "num_hidden_layers": 4, "first_k_dense_replace": 1, "num_attention_heads": 4,
                  "num_key_value_heads": 4, "n_routed_experts": 8, "num_experts_per_tok": 2,
                  "n_group": 2, "topk_group": 1, "n_shared_experts": 1, "q_lora_rank": 32,
                  "kv_lora_rank": 16, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
                  "v_head_dim": 16, "vocab_size": 96, "max_position_embeddings": 64}
QWEN3_MOE_4L = {"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 64,
                "intermediate_size": 128, "moe_intermediate_size": 32, "num_experts": 8,
                "num_experts_per_tok": 2, "num_hidden_layers": 4, "num_attention_heads": 4,
                "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 96,
                "max_position_embeddings": 64, "tie_word_embeddings": False}
# Mamba and attention layers interleaved, MoE every other layer
JAMBA_4L = {"model_type": "jamba", "architectures": ["JambaForCausalLM"], "hidden_size": 64,
            "intermediate_size": 96, "num_hidden_layers": 4, "num_attention_heads": 4,
            "num_key_value_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
            "expert_layer_period": 2, "expert_layer_offset": 1, "attn_layer_period": 2,
            "attn_layer_offset": 1, "mamba_d_state": 8, "mamba_d_conv": 4, "mamba_expand": 2,
            "mamba_dt_rank": 8, "vocab_size": 96, "max_position_embeddings": 64,
            "use_mamba_kernels": False}
CASES = {"llama": LLAMA_4L, "gemma2": GEMMA2_4L, "deepseek_v3": DEEPSEEK_V3_4L,
         "qwen3_moe": QWEN3_MOE_4L, "jamba": JAMBA_4L}


def _both(path: Any, **options: Any) -> tuple[Any, Any]:
    reused = profile(ModelSource(hf_config=path), seq_len=16, batch=2, **options)
    full = profile(ModelSource(hf_config=path), seq_len=16, batch=2, reuse_layers=False, **options)
    return reused, full


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("attention", ["full", "causal"])
def test_reuse_equals_the_full_count(name: str, attention: str, config_file: ConfigFile) -> None:
    reused, full = _both(config_file(CASES[name]), attention=attention)
    assert reused.by_operator == full.by_operator
    assert (reused.forward_flop, reused.backward_flop) == (full.forward_flop, full.backward_flop)
    assert reused.uncounted_ops == full.uncounted_ops
    assert full.details["layers"]["method"] == "full"
    layers = reused.details["layers"]
    assert layers["method"] in ("reuse", "full")
    if layers["method"] == "full":
        assert layers["reason"]


def test_homogeneous_stack_counts_one_layer_and_credits_three(config_file: ConfigFile) -> None:
    reused, full = _both(config_file(LLAMA_4L))
    layers = reused.details["layers"]
    assert layers["method"] == "reuse"
    # 4 identical decoder layers: one signature, one layer ran, three credited
    assert sum(group["count"] for group in layers["groups"]) == 4
    assert len(layers["groups"]) == 1
    # the credited layers still appear per module, each with the same forward FLOP as layer 0
    forward = reused.by_phase["forward"]["by_module"]
    assert forward["model.layers.3"] == forward["model.layers.0"] == full.by_phase["forward"]["by_module"]["model.layers.0"]
    assert reused.forward_flop == full.forward_flop


def test_alternating_layers_form_two_groups(config_file: ConfigFile) -> None:
    reused, _ = _both(config_file(GEMMA2_4L), attention="window")
    layers = reused.details["layers"]
    assert layers["method"] == "reuse"
    # sliding (layers 0, 2) and global (layers 1, 3): two signatures of two layers each
    assert sorted(group["count"] for group in layers["groups"]) == [2, 2]


def test_full_size_llama_405b_reuse_equals_full(config_file: ConfigFile) -> None:
    path = HF_CONFIGS / "llama-3.1-405b.json"
    reused = profile(ModelSource(hf_config=path), seq_len=256, backward=False)
    full = profile(ModelSource(hf_config=path), seq_len=256, backward=False, reuse_layers=False)
    assert reused.by_operator == full.by_operator
    assert reused.details["layers"]["method"] == "reuse"


def test_real_tensors_count_every_layer(config_file: ConfigFile) -> None:
    result = profile(ModelSource(hf_config=config_file(LLAMA_4L)), seq_len=8, batch=1, device="cpu",
                     backward=False)
    # data-dependent paths are possible on real tensors: no reuse, and the reason is given
    assert result.details["layers"]["method"] == "full"
    assert "fake tensors" in result.details["layers"]["reason"]


def test_callers_module_with_real_weights_is_counted_in_full() -> None:
    import torch

    class Stack(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(32, 8)
            # same class, different widths: not the same layer
            self.layers = torch.nn.ModuleList([torch.nn.Linear(8, 8), torch.nn.Linear(8, 8, bias=False),
                                               torch.nn.Linear(8, 8)])

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.embed(ids)
            for layer in self.layers:
                x = layer(x)
            return x

    result = profile(ModelSource(module=Stack()), seq_len=4, batch=1, backward=False)
    # a module of the caller's, holding real weights, is counted in full
    assert result.details["layers"]["method"] == "full"
    assert "real weights" in result.details["layers"]["reason"]
    # 3 layers x 2*4*8*8 = 512 each = 1,536, whatever was or was not reused
    assert result.forward_flop == 1_536


def test_cli_no_reuse_layers_flag(config_file: ConfigFile) -> None:
    import json

    from click.testing import CliRunner

    from flopaudit.cli.profile import profile as profile_command

    path = str(config_file(LLAMA_4L))
    runs = {}
    for flags in ((), ("--no-reuse-layers",)):
        done = CliRunner().invoke(profile_command, ["--hf-config", path, "--seq-len", "16", "--format", "json",
                                                    *flags])
        assert done.exit_code == 0, done.output
        runs[flags] = json.loads(done.output)
    assert runs[()]["details"]["layers"]["method"] == "reuse"
    assert runs[("--no-reuse-layers",)]["details"]["layers"]["method"] == "full"
    assert "--no-reuse-layers" in runs[("--no-reuse-layers",)]["details"]["layers"]["reason"]
    assert runs[()]["forward_flop"] == runs[("--no-reuse-layers",)]["forward_flop"]
