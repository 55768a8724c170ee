"""Per-module attribution: every level sums to at most its parent, forward and backward.

Regression (issue 8): with ``--by-module 3`` on a Llama, children exceeded their parents in
backward and ``self_attn`` grew layer by layer, because Hugging Face layers take their tensors by
keyword and torch's ModuleTracker closed a module's backward on positional tensors only.
"""

from __future__ import annotations

import pytest

from flopaudit.measure import ModelSource, profile
from tests.measure.conftest import ConfigFile

LLAMA_4L = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
            "intermediate_size": 160, "num_hidden_layers": 4, "num_attention_heads": 4,
            "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64,
            "tie_word_embeddings": False}


@pytest.mark.parametrize("reuse", [False, True])
def test_every_level_sums_to_its_parent(reuse: bool, config_file: ConfigFile) -> None:
    result = profile(ModelSource(hf_config=config_file(LLAMA_4L)), seq_len=16, batch=2, by_module_depth=3,
                     reuse_layers=reuse)
    for phase in ("forward", "backward"):
        modules = result.by_phase[phase]["by_module"]
        for name, flop in modules.items():
            children = [child for child in modules
                        if child.startswith(name + ".") and "." not in child[len(name) + 1:]]
            assert sum(modules[c] for c in children) <= flop, (phase, name)
        # the model and the head hold every FLOP of the step
        assert modules["model"] + modules["lm_head"] == sum(result.by_phase[phase]["by_operator"].values())
        # identical layers get identical counts, in backward too
        for part in ("", ".self_attn", ".mlp"):
            assert len({modules[f"model.layers.{i}{part}"] for i in range(4)}) == 1, (phase, part)
    # by hand (forward, one layer): q 2*32*64*64 262,144 + k,v 2*2*32*64*32 262,144 + o 262,144
    #   = 786,432, + QK^T and PV 2 x (2 sequences x 4 heads x 2*16*16*16) 131,072 = 917,504
    #   for self_attn; mlp 3*2*32*64*160 = 1,966,080
    forward = result.by_phase["forward"]["by_module"]
    assert forward["model.layers.3.self_attn"] == 917_504
    assert forward["model.layers.3.mlp"] == 1_966_080
    # backward: projections 2x 1,572,864 + attention 2.5x 327,680 = 1,900,544, and nothing else:
    # self_attn no longer collects later layers' backward
    backward = result.by_phase["backward"]["by_module"]
    assert backward["model.layers.3.self_attn"] == 1_900_544
    assert backward["model.layers.0.self_attn"] == backward["model.layers.3.self_attn"]


def test_module_tree_rows_add_up_to_their_parent() -> None:
    from flopaudit.cli.profile import module_tree

    by_module = {"model": 90, "model.layers.0": 40, "model.layers.0.mlp": 30, "model.layers.1": 40,
                 "lm_head": 8}
    rows = module_tree(by_module, 100)
    # model 90 = layers 40 + 40 + its own 10; layers.0 40 = mlp 30 + its own 10;
    # the step 100 = model 90 + lm_head 8 + 2 outside any module
    assert rows == [("model", 90, 100), ("  layers.0", 40, 90), ("    mlp", 30, 40), ("    (self)", 10, 40),
                    ("  layers.1", 40, 90), ("  (self)", 10, 90), ("lm_head", 8, 100),
                    ("(outside any module)", 2, 100)]


def test_profile_text_shows_the_tree(config_file: ConfigFile) -> None:
    from click.testing import CliRunner

    from flopaudit.cli.profile import profile as profile_command

    done = CliRunner().invoke(profile_command, ["--hf-config", str(config_file(LLAMA_4L)), "--seq-len", "16",
                                                "--by-module", "3"])
    assert done.exit_code == 0, done.output
    assert "as a tree" in done.output
    # the 4 identical layers are one row holding their sum, then one layer's parts
    assert "   layers.0-3 (4 alike; below: one of them) " in done.output and "     self_attn " in done.output
    assert "layers.1 " not in done.output


def test_shares_add_up_to_exactly_100_percent() -> None:
    from flopaudit.cli.profile import shares

    # 1/3 each is 33.33..%: tenths 333 + 333 + 333 = 999, the one tenth left goes to the first
    # of the equal remainders, so 33.4% + 33.3% + 33.3% = 100.0%
    assert shares([1, 1, 1], 3) == ["33.4%", "33.3%", "33.3%"]
    # 2/3 = 66.67% (remainder .67) and 1/3 = 33.33% (.33): 666 + 333 = 999, the larger remainder rounds up
    assert shares([2, 1], 3) == ["66.7%", "33.3%"]
    # values that do not add up to the whole (a level that overflows its parent) are rounded each alone
    assert shares([2, 2], 3) == ["66.7%", "66.7%"]


def test_grouped_tree_levels_add_up() -> None:
    from flopaudit.cli.profile import _tree

    # model 90 = two alike layers 2 x 40 + its own 10; each layer 40 = mlp 30 + its own 10; step 100 =
    # model 90 + lm_head 10. The layers are one row of 80 (80/90 = 88.9%, (self) 10/90 = 11.1%); below
    # it one layer's rows: mlp 30/40 = 75.0% of it, and of the total 2 x 30 / 100 = 60.0%.
    by_module = {"model": 90, "model.layers.0": 40, "model.layers.0.mlp": 30, "model.layers.1": 40,
                 "model.layers.1.mlp": 30, "lm_head": 10}
    rows = _tree(by_module, 100)
    assert rows == [("model", 90, 100, 1, "90.0%"),
                    ("  layers.0-1 (2 alike; below: one of them)", 80, 90, 1, "88.9%"),
                    ("    mlp", 30, 40, 2, "75.0%"), ("    (self)", 10, 40, 2, "25.0%"),
                    ("  (self)", 10, 90, 1, "11.1%"), ("lm_head", 10, 100, 1, "10.0%")]
