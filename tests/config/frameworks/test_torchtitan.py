"""torchtitan job configs: flavors, -1 degrees, tokens, lines and torchtitan's own FLOP formula."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks import detect_format, read_training_config
from flopaudit.config.frameworks.base import ReadOptions, TrainingRun
from flopaudit.config.frameworks.torchtitan import key_lines
from flopaudit.config.frameworks.torchtitan_flavors import compute_ffn_hidden_dim, compute_moe_hidden_dim, resolve
from flopaudit.config.models import Architecture
from flopaudit.errors import ConfigError
from flopaudit.estimate import formulas as f
from flopaudit.estimate.methods import arch_forward_per_token, arch_parameters

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).parent / "fixtures"
LLAMA3_8B = ROOT / "examples" / "frameworks" / "torchtitan" / "llama3_8b.toml"


def read(name: str, **options: int) -> TrainingRun:
    path = LLAMA3_8B if name == "example" else FIXTURES / name
    return read_training_config(path, options=ReadOptions(**options))


def norms(run: TrainingRun) -> int:
    arch = Architecture(**run.architecture)
    return int(arch_parameters(arch, active=True, norms=True) - arch_parameters(arch, active=True))


@pytest.mark.parametrize(("dim", "multiple_of", "multiplier", "width"), [
    (4096, 1024, 1.3, 14336),   # int(2*4*4096/3) = 10922; int(1.3 * 10922) = 14198; up to 1024s: 14336
    (8192, 4096, 1.3, 28672),   # 21845; int(28398.5) = 28398; up to 4096s: 28672
    (16384, 4096, 1.2, 53248),  # 43690; int(52428.0) = 52428; up to 4096s: 53248
    (256, 256, None, 768),      # debugmodel: 682, up to 256s: 768
])
def test_ffn_width_as_torchtitan_computes_it(dim: int, multiple_of: int, multiplier: float | None,
                                             width: int) -> None:
    assert compute_ffn_hidden_dim(dim, multiple_of, multiplier) == width


def test_llama3_8b_example_needs_devices() -> None:
    assert detect_format(LLAMA3_8B, LLAMA3_8B.read_text()) == "torchtitan"
    with pytest.raises(ConfigError) as err:
        read("example")
    # data_parallel_shard_degree = -1 is on line 27 of the example
    assert "devices" in (err.value.hint or "") and err.value.line == 27
    run = read("example", devices=64)
    # shard = 64 / (1 x 1 x 1 x 1) = 64; global batch 2 x 64 = 128; 20,000 x 128 x 8,192 tokens
    assert (run.global_batch, run.tokens) == (128, 20_971_520_000)
    assert run.parameters == 8_030_261_248  # as from the Megatron script (test_megatron)
    assert run.model_name == "llama3 8B"
    # layers come from the flavor (line 12), the length from [training] steps (line 22)
    assert (run.line_of("layers"), run.line_of("steps"), run.line_of("local_batch")) == (12, 22, 20)


def test_llama3_8b_torchtitan_formula() -> None:
    run = read("example", devices=64)
    # 6 x (8,030,261,248 - 128256*4096 = 7,504,924,672) = 45,029,548,032
    # + 6 x 32 layers x 32 heads x (128 + 128) x 8192 = 12,884,901,888 -> 57,914,449,920 per token
    assert run.framework_flop is not None
    assert run.framework_flop.flop == 57_914_449_920 * 20_971_520_000
    # flopaudit (full attention) prices the same matmuls but not the RMSNorm weights torchtitan's 6N holds:
    # 6 x (32 x 2 x 4096 + 4096) = 6 x 266,240 = 1,597,440 per token fewer
    flopaudit = 3 * arch_forward_per_token(Architecture(**run.architecture), 8192, False) * run.tokens
    assert run.framework_flop.flop - flopaudit == 1_597_440 * run.tokens
    assert norms(run) == 266_240


def test_llama31_405b_explicit_degrees() -> None:
    run = read("llama31_405b.toml")  # every degree given: no device count needed
    # global_batch_size 1024 is set: 3,000 x 1,024 x 8,192 = 25,165,824,000 tokens
    assert run.tokens == 25_165_824_000
    assert run.parameters == 405_853_388_800
    assert read("llama31_405b.toml", devices=512).tokens == run.tokens  # 1 x 8 x 8 x 8 = 512
    with pytest.raises(ConfigError) as err:
        read("llama31_405b.toml", devices=256)
    assert "512" in err.value.message


def test_deepseek_v3_671b_flavor() -> None:
    run = read("deepseek_v3_671b.toml", devices=1024)
    # shard = 1024 / (replicate 2 x TP 8) = 64; dp = 2 x 64 = 128; batch_size 4 x 128 = 512 sequences;
    # 100 x 512 x 4096 = 209,715,200 tokens
    assert (run.global_batch, run.tokens) == (512, 209_715_200)
    assert run.values["local_batch"].origin == "[training] batch_size"
    # the sums of test_megatron.test_deepseek_v3_mla_mtp without the MTP layer (torchtitan has none)
    assert (run.parameters, run.active_parameters) == (671_026_404_352, 37_552_282_624)
    # torchtitan minus flopaudit (full attention): 6 x the active norm weights,
    # 61 x (2 x 7168 + 1536 + 512) + 7168 = 1,006,592 -> 6,039,552 per token
    assert norms(run) == 1_006_592
    flopaudit = 3 * arch_forward_per_token(Architecture(**run.architecture), 4096, False) * run.tokens
    assert run.framework_flop is not None
    assert run.framework_flop.flop - flopaudit == pytest.approx(6_039_552 * run.tokens, rel=1e-12)


def test_qwen3_flavor_parameters() -> None:
    arch = Architecture(**resolve("qwen3", "0.6B").architecture)
    # 28 x (1024*2048*2 + 2*1024*1024 + 3*1024*3072 = 15,728,640) = 440,401,920; tied embedding
    # 151936*1024 = 155,582,464; norms 28*2*1024 + 1024 = 58,368 -> 596,042,752. Qwen3-0.6B has
    # 596,049,920: the 28 x 2 x 128 = 7,168 q/k-norm weights flopaudit leaves out (noted)
    assert arch_parameters(arch, active=False, norms=True) + 7_168 == 596_049_920


def test_missing_steps_and_unknown_flavor() -> None:
    with pytest.raises(ConfigError) as err:
        read("no_steps.toml")
    assert "[training] steps" in err.value.message and err.value.line == 5
    with pytest.raises(ConfigError) as err:
        read("unknown_flavor.toml")
    assert "'8B'" in err.value.message and err.value.line == 3


def test_key_lines() -> None:
    text = "[model]\nname = 'x'\n\n[training]\n  steps = 3  # comment\n"
    assert key_lines(text) == {("model", ""): 1, ("model", "name"): 2, ("training", ""): 4,
                               ("training", "steps"): 5}


def test_mla_forward_by_hand() -> None:
    # tiny MLA layer, s = 4 tokens, d = 8, 2 heads, q_lora 4, kv_lora 4, qk 2 + rope 1, v 2:
    # q_a 2*4*8*4 = 256; q_b 2*4*4*(2*3) = 192; kv_a 2*4*8*(4+1) = 320; kv_b 2*4*4*(2*(2+2)) = 256;
    # o 2*4*(2*2)*8 = 256; core 2*4*4*2*(3+2) = 320 (causal: 160) -> 1,600 full, 1,440 causal
    kw = dict(tokens=4, kv_len=4, d_model=8, heads=2, q_lora_rank=4, kv_lora_rank=4, qk_head_dim=2,
              qk_rope_head_dim=1, v_head_dim=2)
    assert f.mla_attention_block(**kw, causal=False) == 1_600
    assert f.mla_attention_block(**kw, causal=True) == 1_440
    # parameters: q_a 32 + q_b 24 + kv_a 40 + kv_b 32 + o 32 = 160; without q_lora: q_proj 8*6 = 48 -> 152
    assert f.mla_attention_parameters(8, 2, 4, 4, 2, 1, 2) == 160
    assert f.mla_attention_parameters(8, 2, None, 4, 2, 1, 2) == 152


def test_mla_architecture_validation() -> None:
    with pytest.raises(ValueError, match="needs kv_lora_rank"):
        Architecture(layers=1, d_model=8, heads=2, vocab=10, q_lora_rank=4)
    with pytest.raises(ValueError, match="needs qk_rope_head_dim"):
        Architecture(layers=1, d_model=8, heads=2, vocab=10, kv_lora_rank=4, head_dim=2, v_head_dim=2)
    with pytest.raises(ValueError, match="no kv_heads"):
        Architecture(layers=1, d_model=8, heads=2, kv_heads=1, vocab=10, kv_lora_rank=4, head_dim=2,
                     qk_rope_head_dim=1, v_head_dim=2)


def test_vocab_option_conflicting_with_the_flavor() -> None:
    with pytest.raises(ConfigError) as err:
        read("example", devices=64, vocab=32000)
    assert "128256" in err.value.message and err.value.line == 12


def test_llama4_flavors() -> None:
    # int(2*4*5120/3) = 13653; int(1.2 x 13653) = 16383; int(16383 / (1 + 1)) = 8191; up to 2048s: 8192
    assert compute_moe_hidden_dim(5120, 2048, 1.2, 1, 1) == 8192
    scout = Architecture(**resolve("llama4", "17bx16e").architecture)
    # 48 MoE layers: attention 5120*5120*2 + 2*5120*1024 = 62,914,560; router 5120*16 = 81,920;
    # 16 routed + 1 shared experts x 3*5120*8192 = 17 x 125,829,120; per layer 2,202,091,520 (x 48 =
    # 105,700,392,960); embeddings 2*202048*5120 = 2,068,971,520; norms 48*2*5120 + 5120 = 496,640
    # -> 107,769,861,120 (Meta's 109B counts the vision encoder too)
    assert arch_parameters(scout, active=False, norms=True) == 107_769_861_120
    # active: 48 x (62,914,560 + 81,920 + 2 x 125,829,120) + 2,068,971,520 + 496,640 = 17,172,894,720 (17B)
    assert arch_parameters(scout, active=True, norms=True) == 17_172_894_720
    maverick = Architecture(**resolve("llama4", "17bx128e").architecture)
    # step 2: 24 dense layers of 3*5120*16384 = 251,658,240 and 24 MoE layers of 5120*128 = 655,360 +
    # 129 x 125,829,120 = 16,232,611,840: 48 x 62,914,560 + 24 x 251,658,240 + 24 x 16,232,611,840
    # + 2,068,971,520 + 496,640 = 400,711,848,960 (Meta: 400B)
    assert arch_parameters(maverick, active=False, norms=True) == 400_711_848_960


def test_llama4_longer_than_its_attention_blocks_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "scout.toml"
    config.write_text('[model]\nname = "llama4"\nflavor = "17bx16e"\n\n[training]\nlocal_batch_size = 1\n'
                      'seq_len = 16384\nsteps = 10\n')
    with pytest.raises(ConfigError) as err:
        read_training_config(config, options=ReadOptions(devices=8))
    assert "8192-token blocks" in err.value.message and err.value.line == 7


def test_global_batch_must_be_a_multiple_of_local_times_dp(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('[model]\nname = "llama3"\nflavor = "8B"\n\n[training]\nlocal_batch_size = 3\n'
                      'global_batch_size = 100\nseq_len = 8192\nsteps = 10\n')
    # 8 devices: dp 8, 3 x 8 = 24 does not divide 100 (line 7)
    with pytest.raises(ConfigError) as err:
        read_training_config(config, options=ReadOptions(devices=8))
    assert "3 x 8" in err.value.message and err.value.line == 7
    # without the device count the batch is still known: 10 x 100 x 8192 = 8,192,000 tokens
    assert read_training_config(config).tokens == 8_192_000


@pytest.mark.parametrize("devices", [0, -8])
def test_device_option_must_be_positive(devices: int) -> None:
    with pytest.raises(ConfigError, match="devices option must be a positive integer"):
        read("example", devices=devices)


def test_detection(tmp_path: Path) -> None:
    other_toml = tmp_path / "pyproject.toml"
    other_toml.write_text('[project]\nname = "x"\n')
    other_sh = tmp_path / "prepare.sh"
    other_sh.write_text("python tools/preprocess_data.py --input data.json\n")
    for path in (other_toml, other_sh):
        with pytest.raises(ConfigError, match="not a training config"):
            detect_format(path, path.read_text())


def test_activation_checkpoint_mode_is_recorded() -> None:
    # the example's [activation_checkpoint] mode = "selective" is on line 33; 405B's fixture has none
    found = read("example", devices=64).values["recomputation"]
    assert (found.value, found.line) == ("selective", 33)
    assert "recomputation" not in read("llama31_405b.toml").values
