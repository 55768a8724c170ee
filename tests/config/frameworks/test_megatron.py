"""Megatron-LM launch scripts: tokens, lines, parameters and Megatron's own FLOP formula."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks import detect_format, read_training_config
from flopaudit.config.frameworks.base import ReadOptions, TrainingRun
from flopaudit.config.frameworks.megatron_layers import moe_layer_pattern
from flopaudit.config.models import Architecture
from flopaudit.errors import ConfigError
from flopaudit.estimate.methods import arch_forward_per_token

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
LLAMA3_8B = ROOT / "examples" / "frameworks" / "megatron" / "llama3_8b.sh"


def read(name: str, **options: int) -> TrainingRun:
    path = LLAMA3_8B if name == "example" else FIXTURES / name
    return read_training_config(path, options=ReadOptions(**options))


def flopaudit_training_flop(run: TrainingRun, causal: bool) -> float:
    """flopaudit's transformer method for the run: 3 x forward per token x tokens."""
    return 3 * arch_forward_per_token(Architecture(**run.architecture), run.sequence_length, causal) * run.tokens


def test_llama3_8b_example() -> None:
    run = read("example")
    assert detect_format(LLAMA3_8B, LLAMA3_8B.read_text()) == "megatron"
    # 100,000 iterations x 512 sequences x 8,192 tokens = 419,430,400,000 tokens
    assert (run.steps, run.global_batch, run.sequence_length) == (100_000, 512, 8192)
    assert run.tokens == 419_430_400_000
    # per layer: attention 4096*4096*2 + 2*4096*1024 = 41,943,040; SwiGLU 3*4096*14336 = 176,160,768;
    # 32 layers = 6,979,321,856; embeddings + head 2*128256*4096 = 1,050,673,152;
    # RMSNorms 32*2*4096 + 4096 = 266,240 -> 8,030,261,248 (Meta's published count)
    assert run.parameters == run.active_parameters == 8_030_261_248
    # lines: --num-layers on 17, --global-batch-size ${GBS:-512} on 35 (a default), --vocab-size on 30
    assert (run.line_of("layers"), run.line_of("global_batch"), run.line_of("vocab")) == (17, 35, 30)
    assert run.values["head_dim"].line is None  # hidden // heads: Megatron's default, from no line


def test_llama3_8b_megatron_formula_equals_causal_transformer() -> None:
    run = read("example")
    # Megatron per token: attention 6*(4096*(4096+1024+1024) + 4096*8192/2*2 + 4096*4096) = 452,984,832;
    # MLP 6*4096*14336*3 = 1,056,964,608; logits 6*4096*128256 = 3,152,019,456 (128256 needs no padding);
    # 32*(452,984,832 + 1,056,964,608) + 3,152,019,456 = 51,470,401,536 per token
    assert run.framework_flop is not None
    assert run.framework_flop.flop == 51_470_401_536 * 419_430_400_000
    # flopaudit's transformer method with causal attention is the same sum term by term (dense GQA model)
    assert flopaudit_training_flop(run, causal=True) == run.framework_flop.flop
    # with full attention flopaudit counts the other half of the scores too: Megatron's causal core is
    # 6 x 4096 x 8192 = 201,326,592 per token and layer, so 32 x 201,326,592 = 6,442,450,944 per token more
    assert flopaudit_training_flop(run, causal=False) - run.framework_flop.flop == 6_442_450_944 * run.tokens


def test_llama31_405b_script() -> None:
    run = read("llama31_405b.sh")
    # --train-samples 1,000,000 // --global-batch-size 2048 = 488 (Megatron floors; 488.28...)
    assert run.steps == 488
    # 488 x 2048 x 8192 = 8,187,281,408 tokens
    assert run.tokens == 8_187_281_408
    # 126 x (16384*16384*2 + 2*16384*1024 + 3*16384*53248) = 401,646,551,040; embeddings
    # 2*128256*16384 = 4,202,692,608; norms 126*2*16384 + 16384 = 4,145,152 -> 405,853,388,800
    assert run.parameters == 405_853_388_800
    # the numbers came from a string variable over two lines, SEQ_LEN=8192 (line 8), the
    # --train-samples line (27)
    assert (run.line_of("layers"), run.line_of("d_ff"), run.line_of("sequence_length"),
            run.line_of("steps")) == (13, 14, 8, 27)


def test_405b_padded_vocabulary_difference() -> None:
    run = read("llama31_405b.sh")
    # TP=8: Megatron pads 128,256 up to a multiple of 128 x 8 = 1,024: 129,024, i.e. 768 padding rows;
    # its logits then cost 6 x 16384 x 768 = 75,497,472 FLOP per token more than flopaudit's
    assert run.framework_flop is not None
    assert run.framework_flop.flop - flopaudit_training_flop(run, causal=True) == pytest.approx(
        75_497_472 * run.tokens, rel=1e-12)
    assert any("129,024" in note for note in run.notes)


def test_mixtral_moe_and_vocab_option() -> None:
    with pytest.raises(ConfigError) as err:
        read("mixtral_8x7b.sh")
    # the tokenizer decides the vocabulary: the error names the key that supplies it
    assert "vocab" in (err.value.hint or "") and "vocabulary" in err.value.message
    run = read("mixtral_8x7b.sh", vocab=32000)
    # per layer: attention 41,943,040, router 4096*8 = 32,768, experts 8 x 176,160,768 = 1,409,286,144;
    # 32 layers = 46,440,382,464; embeddings 2*32000*4096 = 262,144,000; norms 266,240 -> 46,702,792,704
    assert run.parameters == 46_702_792_704
    # active: 32 x (41,943,040 + 32,768 + 2 x 176,160,768) = 12,617,515,008 + 262,144,000 + 266,240
    assert run.active_parameters == 12_879_925_248
    assert run.values["vocab"].origin == "vocab option" and run.line_of("vocab") is None
    # 500 steps x 256 x 4096 = 524,288,000 tokens
    assert run.tokens == 524_288_000
    # Megatron does not count the router: 6 x 4096 x 8 x 32 layers = 6,291,456 FLOP per token fewer
    assert run.framework_flop is not None
    assert flopaudit_training_flop(run, causal=True) - run.framework_flop.flop == pytest.approx(
        6_291_456 * run.tokens, rel=1e-12)


def test_deepseek_v3_mla_mtp() -> None:
    run = read("deepseek_v3.sh")
    # MLA per layer: q_a 7168*1536 = 11,010,048; q_b 1536*128*192 = 37,748,736; kv_a 7168*576 = 4,128,768;
    # kv_b 512*128*256 = 16,777,216; o 128*128*7168 = 117,440,512 -> 187,105,280 (x 61 = 11,413,422,080).
    # dense FFN 3*7168*18432 = 396,361,728 (x 3 = 1,189,085,184); MoE layer: router 7168*256 = 1,835,008 +
    # 257 experts x 3*7168*2048 = 11,318,329,344 -> 11,320,164,352 (x 58 = 656,569,532,416);
    # embeddings 2*129280*7168 = 1,853,358,080; norms 61*(2*7168 + 1536 + 512) + 7168 = 1,006,592
    # -> 671,026,404,352 without MTP. DeepSeek publishes 671B (HF: 671,026,419,200 = this + 58 x 256
    # router score-correction biases, which flopaudit does not count).
    # The MTP layer adds attention 187,105,280 + a MoE FFN 11,320,164,352 + eh_proj 2*7168*7168
    # = 102,760,448 + norms 16,384 + 3*7168 = 37,888 -> 11,610,067,968: 682,636,472,320 in all
    assert run.parameters == 682_636_472_320
    # active per MoE layer: router + (8 + 1) experts x 44,040,192 = 398,196,736 (x 58 = 23,095,410,688);
    # 11,413,422,080 + 1,189,085,184 + 23,095,410,688 + 1,853,358,080 + 1,006,592 = 37,552,282,624
    # (DeepSeek: 37B) + MTP 187,105,280 + 398,196,736 + 102,760,448 + 37,888 = 38,240,382,976
    assert run.active_parameters == 38_240_382_976
    assert run.architecture["dense_layers"] == 3 and run.line_of("dense_layers") == 16
    assert run.line_of("kv_lora_rank") == 6


def test_deepseek_v3_megatron_formula_difference() -> None:
    run = read("deepseek_v3.sh")
    # Megatron minus flopaudit (causal), per token: MLA norm terms 6 x (1536 + 512) x 62 layers = 761,856;
    # MTP norms 6 x 3 x 7168 = 129,024; minus the router flopaudit counts and Megatron does not,
    # 6 x 7168 x 256 x (58 + 1 MTP) = 649,592,832 -> -648,701,952 (129,280 needs no padding at TP 1)
    assert run.framework_flop is not None
    assert run.framework_flop.flop - flopaudit_training_flop(run, causal=True) == pytest.approx(
        -648_701_952 * run.tokens, rel=1e-12)


@pytest.mark.parametrize(("text", "layers", "dense"), [
    ("([0]*3+[1]*58)", 61, 3),
    ("[1,0,1,0]", 4, 2),
    ("2", 6, 3),         # layers 0, 2, 4 are MoE
    ("([1]*2)*2+[0]", 5, 1),
])
def test_moe_layer_freq(text: str, layers: int, dense: int) -> None:
    assert moe_layer_pattern(text, layers).count(0) == dense


@pytest.mark.parametrize("text", ["__import__('os')", "[0]*3+[2]", "[0,1", "[0]*", "3.5"])
def test_moe_layer_freq_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        moe_layer_pattern(text, 4)


def test_missing_training_length_names_the_arguments() -> None:
    with pytest.raises(ConfigError) as err:
        read("no_length.sh")
    assert "--train-iters" in err.value.message and "--train-samples" in err.value.message
    assert err.value.line == 4


def test_micro_batch_needs_the_device_count() -> None:
    with pytest.raises(ConfigError) as err:
        read("micro_batch_only.sh")
    assert "devices" in (err.value.hint or "")
    # 16 devices / TP 2 = 8 data-parallel ranks x micro batch 4 = 32 sequences; 10 x 32 x 128 tokens
    run = read("micro_batch_only.sh", devices=16)
    assert (run.global_batch, run.tokens) == (32, 40_960)


def test_refused_and_unassigned_scripts() -> None:
    with pytest.raises(ConfigError) as err:
        read("refused_subst.sh")
    assert "command substitution" in err.value.message and err.value.line == 4
    with pytest.raises(ConfigError) as err:
        read("refused_source.sh")
    assert "'source'" in err.value.message and err.value.line == 3
    with pytest.raises(ConfigError) as err:
        read("unassigned.sh")
    assert "NUM_LAYERS" in err.value.message


def test_unused_substitution_is_fine() -> None:
    # RUN_ID=$(date) and LOG_DIR=`pwd` feed nothing the count needs: 10 x 8 x 128 = 10,240 tokens
    assert read("unused_subst.sh").tokens == 10_240


def test_unpriced_arguments_are_refused_and_vocab_conflicts_named(tmp_path: Path) -> None:
    script = tmp_path / "hybrid.sh"
    script.write_text("torchrun pretrain_mamba.py --num-layers 4 --hidden-size 256 --num-attention-heads 4 \\\n"
                      "  --hybrid-override-pattern M-M* --seq-length 128 --vocab-size 1000 \\\n"
                      "  --global-batch-size 8 --train-iters 10\n")
    with pytest.raises(ConfigError) as err:
        read_training_config(script)
    assert "--hybrid-override-pattern" in err.value.message and err.value.line == 2
    with pytest.raises(ConfigError) as err:
        read("example", vocab=128000)
    # --vocab-size 128256 is on line 30 of the example
    assert "128256" in err.value.message and "128000" in err.value.message and err.value.line == 30


def test_program_path_from_an_argument() -> None:
    # python "${MEGATRON}/pretrain_gpt.py" with MEGATRON=$1: the program is recognised by its name, and
    # --save "$2" is not needed for the count. 10 x 8 x 128 = 10,240 tokens
    run = read("entry_from_argument.sh")
    assert run.tokens == 10_240 and run.line_of("layers") == 4


@pytest.mark.parametrize(("argument", "value"), [("--num-attention-heads", "0"), ("--global-batch-size", "0"),
                                                 ("--num-layers", "-2"), ("--hidden-size", "4k")])
def test_impossible_numbers_are_errors_at_their_line(tmp_path: Path, argument: str, value: str) -> None:
    args = {"--num-layers": "2", "--hidden-size": "256", "--num-attention-heads": "4", "--seq-length": "128",
            "--vocab-size": "1000", "--global-batch-size": "8", "--train-samples": "80", argument: value}
    script = tmp_path / "run.sh"
    script.write_text("torchrun pretrain_gpt.py \\\n" + " \\\n".join(f"  {k} {v}" for k, v in args.items()) + "\n")
    with pytest.raises(ConfigError) as err:
        read_training_config(script)
    # line 1 is the command, then one argument per line in the order of `args`
    assert argument in err.value.message and err.value.line == 2 + list(args).index(argument)


def test_recomputation_is_recorded(tmp_path: Path) -> None:
    assert read("example").values["recomputation"].value == "none"  # Megatron's default: no recompute
    script = tmp_path / "run.sh"
    script.write_text("torchrun pretrain_gpt.py --num-layers 2 --hidden-size 256 --num-attention-heads 4 \\\n"
                      "  --recompute-granularity full --recompute-method uniform \\\n"
                      "  --seq-length 128 --vocab-size 1000 --global-batch-size 8 --train-iters 10\n")
    run = read_training_config(script)
    assert (run.values["recomputation"].value, run.line_of("recomputation")) == ("full", 2)
    assert any("forward runs twice" in note for note in run.notes)
