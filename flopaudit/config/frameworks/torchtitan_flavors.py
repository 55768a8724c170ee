"""torchtitan's published model flavors (``flopaudit/data/torchtitan_flavors.yaml``) as architectures."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "torchtitan_flavors.yaml"


def compute_ffn_hidden_dim(dim: int, multiple_of: int, ffn_dim_multiplier: float | None) -> int:
    """torchtitan's SwiGLU width: int(2 * 4 * dim / 3), x ffn_dim_multiplier (floored), rounded up to multiple_of."""
    hidden = int(2 * 4 * dim / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def compute_moe_hidden_dim(dim: int, multiple_of: int, ffn_dim_multiplier: float | None, top_k: int,
                           num_shared_experts: int) -> int:
    """torchtitan's Llama 4 expert width: int(2 * 4 * dim / 3), x multiplier, / (top_k + shared) (floored), rounded up to multiple_of."""
    hidden = int(2 * 4 * dim / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    hidden = int(hidden / (top_k + num_shared_experts))
    return hidden + (-hidden % multiple_of)


@dataclass(frozen=True)
class Flavor:
    """One torchtitan flavor: its architecture (flopaudit keywords) and the file it comes from."""

    model: str
    flavor: str
    architecture: dict[str, Any]
    source: str
    notes: tuple[str, ...] = ()
    max_priced_seq_len: int | None = None  # longer sequences use attention this table does not describe


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    with open(DATA_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def models() -> list[str]:
    """Model names in the table."""
    return list(_table())


def flavors(model: str) -> list[str]:
    """Flavor names of a model in the table (KeyError for an unknown model)."""
    return [str(k) for k in _table()[model]["flavors"]]


def resolve(model: str, flavor: str) -> Flavor:
    """The flavor's architecture; KeyError for an unknown model or flavor."""
    entry = _table()[model]
    raw = {str(k): v for k, v in entry["flavors"].items()}[flavor]
    convert = {"llama3": _llama3, "llama4": _llama4, "deepseek_v3": _deepseek_v3, "qwen3": _qwen3}[model]
    arch, notes = convert(raw)
    return Flavor(model, flavor, arch, entry["source"], tuple(notes), entry.get("max_priced_seq_len"))


def _llama3(r: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    d_ff = compute_ffn_hidden_dim(r["dim"], r["multiple_of"], r.get("ffn_dim_multiplier"))
    return {"layers": r["n_layers"], "d_model": r["dim"], "heads": r["n_heads"], "kv_heads": r.get("n_kv_heads"),
            "d_ff": d_ff, "ffn": "gated", "vocab": r["vocab_size"], "tied_embeddings": False}, [
        f"FFN width {d_ff} = compute_ffn_hidden_dim({r['dim']}, multiple_of={r['multiple_of']}, "
        f"ffn_dim_multiplier={r.get('ffn_dim_multiplier')})"]


def _llama4(r: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    d_ff = compute_ffn_hidden_dim(r["dim"], r["multiple_of"], r["ffn_dim_multiplier"])
    expert = compute_moe_hidden_dim(r["dim"], r["multiple_of"], r["ffn_dim_multiplier"], r["top_k"],
                                    r["num_shared_experts"])
    moe_layers = r["n_layers"] // r["interleave_moe_layer_step"]  # (i + 1) % step == 0
    return {"layers": r["n_layers"], "d_model": r["dim"], "heads": r["n_heads"], "kv_heads": r["n_kv_heads"],
            "d_ff": d_ff, "ffn": "gated", "vocab": r["vocab_size"], "tied_embeddings": False,
            "experts": r["num_experts"], "experts_per_token": r["top_k"],
            "shared_experts": r["num_shared_experts"], "expert_d_ff": expert,
            "dense_layers": r["n_layers"] - moe_layers}, [
        f"expert width {expert} = compute_moe_hidden_dim; {r['n_layers'] - moe_layers} dense layers interleaved "
        "with the MoE layers (counted as leading: the order does not change the count)"]


def _deepseek_v3(r: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    return {"layers": r["n_layers"], "d_model": r["dim"], "heads": r["n_heads"], "d_ff": r["inter_dim"],
            "ffn": "gated", "vocab": r["vocab_size"], "tied_embeddings": False, "experts": r["num_experts"],
            "experts_per_token": r["top_k"], "shared_experts": r["num_shared_experts"],
            "expert_d_ff": r["moe_inter_dim"], "dense_layers": r["n_dense_layers"],
            "q_lora_rank": r["q_lora_rank"] or None, "kv_lora_rank": r["kv_lora_rank"],
            "head_dim": r["qk_nope_head_dim"], "qk_rope_head_dim": r["qk_rope_head_dim"],
            "v_head_dim": r["v_head_dim"]}, []


def _qwen3(r: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    arch = {"layers": r["n_layers"], "d_model": r["dim"], "heads": r["n_heads"], "kv_heads": r["n_kv_heads"],
            "head_dim": r["head_dim"], "ffn": "gated", "vocab": r["vocab_size"],
            "tied_embeddings": bool(r["enable_weight_tying"])}
    if "num_experts" in r:
        arch.update(d_ff=r["moe_hidden_dim"], experts=r["num_experts"], experts_per_token=r["top_k"],
                    expert_d_ff=r["moe_hidden_dim"])
    else:
        arch["d_ff"] = r["hidden_dim"]
    return arch, ["qk_norm weights (2 x head_dim per layer) are not in the parameter count"]
